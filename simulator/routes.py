"""The simulator's own pages: what it has seen, and the faults it plays."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from . import SIM_CREDENTIALS, bp
from .state import DEFAULT_FAULTS, STATE


@bp.get("/")
def index():
    """List simulated invoices and the faults each gateway is playing."""
    invoices = sorted(STATE.invoices.values(), key=lambda i: i.created_at, reverse=True)
    faults = {name: STATE.faults_for(name) for name in SIM_CREDENTIALS}
    texts = list(reversed(STATE.texts_sent()))[:50]
    return render_template("simulator/index.html", invoices=invoices[:50], faults=faults, texts=texts)


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


@bp.before_request
def broken_create_answers():
    """Faults every gateway can play on its create call: an answer that is not JSON.

    ``create="malformed"``: a 200 whose JSON is cut short; ``create="html"``: a 502
    HTML error page, as a proxy in front of a gateway sends when it falls over.
    """
    endpoint = (request.endpoint or "").partition(".")[2]
    gateway = endpoint.partition("_")[0]
    if gateway not in SIM_CREDENTIALS or not endpoint.startswith(f"{gateway}_create"):
        return None
    fault = STATE.faults_for(gateway)["create"]
    if fault == "malformed":
        return Response('{"status": "SUCCESS", "data": {"link": "https://', 200,
                        content_type="application/json")
    if fault == "html":
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502,
                        content_type="text/html")
    return None
