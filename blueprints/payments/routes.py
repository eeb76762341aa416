"""``POST /payments/callback/<gateway>``: logged, verified, applied once."""
from __future__ import annotations

from flask import current_app, jsonify, request

from providers import REGISTRY
from providers.base import Inbound
from services.gateways import enabled_gateways
from services.payments import handle_callback

from . import bp


@bp.post("/callback/<gateway>")
def callback(gateway: str):
    """A gateway's server-to-server notification. Never answers 500."""
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
        url=request.url,
        content_type=request.mimetype or "",
    )
    status, body = handle_callback(gateway, inbound)
    return jsonify(body), status
