"""``POST /payments/callback/<gateway>``: logged, verified, applied once.

``GET`` on a per-payment callback URL is the customer's browser, for gateways that
send it there after paying (PayUnit): a return landing.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify, redirect, request, url_for

from providers import REGISTRY
from providers.base import Inbound
from services.gateways import enabled_gateways
from services.payments import find_payment, handle_callback, refresh_status

from . import bp


@bp.post("/callback/<gateway>")
@bp.post("/callback/<gateway>/<reference>", endpoint="callback_for")
def callback(gateway: str, reference: str | None = None):
    """A gateway's server-to-server notification. Never answers 500.

    Gateways that call back per invoice get a URL with our payment reference
    in its path; those with one URL set in their portal use the bare one.
    """
    if gateway not in REGISTRY or REGISTRY[gateway] not in enabled_gateways():
        return jsonify(error="unknown gateway"), 404
    limit = current_app.config["CALLBACK_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return jsonify(error="body too large"), 413
    request.max_content_length = limit
    inbound = Inbound(
        headers=dict(request.headers),
        body=request.get_data(cache=True),
        form=request.form.to_dict(),
        query=request.args.to_dict(),
        url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?"),
        content_type=request.mimetype or "",
        path_reference=reference[:40] if reference else None,
    )
    status, body = handle_callback(gateway, inbound)
    return jsonify(body), status


@bp.get("/callback/<gateway>/<reference>")
def callback_landing(gateway: str, reference: str):
    """The browser sent back to the callback URL (PayUnit, seed 003): a hint, so we ask
    the gateway, then show the order page. Other gateways' callback URLs take POST only."""
    provider = REGISTRY.get(gateway)
    if provider is None or not provider.browser_returns_to_callback or provider not in enabled_gateways():
        return jsonify(error="method not allowed"), 405, {"Allow": "POST"}
    payment = find_payment(reference[:40])
    if payment is None or payment.gateway != gateway:
        abort(404)
    if payment.status in payment.ACTIVE:
        refresh_status(payment, force=True, kind="return", note="customer came back (callback URL)")
    return redirect(url_for("checkout.order", token=payment.order.token), 303)
