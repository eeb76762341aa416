"""The simulator's own pages: what it has seen, and the faults it plays."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from . import SIM_CREDENTIALS, bp
from .state import DEFAULT_FAULTS, STATE


@bp.get("/")
def index():
    """List simulated invoices and the faults each gateway is playing."""
    invoices = sorted(STATE.invoices.values(), key=lambda i: i.created_at, reverse=True)
    faults = {name: STATE.faults_for(name) for name in SIM_CREDENTIALS}
    return render_template("simulator/index.html", invoices=invoices[:50], faults=faults)


@bp.post("/faults")
def set_faults():
    """Set one gateway's faults from the index page's form."""
    gateway = request.form.get("gateway", "")
    if gateway not in SIM_CREDENTIALS:
        return "unknown gateway", 400
    values = {}
    for name, default in DEFAULT_FAULTS.items():
        raw = request.form.get(name, str(default))
        values[name] = int(raw) if isinstance(default, int) and raw.lstrip("-").isdigit() else (
            default if isinstance(default, int) else raw)
    STATE.set_faults(gateway, **values)
    flash(f"Simulated {gateway} now plays: {values}")
    return redirect(url_for("simulator.index"), 303)
