"""``POST /payments/callback/<gateway>``: logged, verified, applied once.

``GET`` on a per-payment callback URL is the customer's browser, for gateways that
send it there after paying (PayUnit): a return landing.
"""
from __future__ import annotations

import json

from flask import abort, current_app, jsonify, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from extensions import db, limiter
from orders.states import Rejection
from payments import pacing
from payments.attempts import callback_headers, find_payment, handle_callback, log_event, refresh_status
from payments.gateways import enabled_gateways
from providers import REGISTRY
from providers.base import Inbound

from . import bp

#: Answers that mean "rejected": only these count against CALLBACK_REJECT_RATE_LIMIT.
REJECTED = {400, 401, 403, 404, 413}
#: No gateway nests its JSON this deep; deeper is refused before anything parses it.
MAX_JSON_DEPTH = 32
#: A signature header is a timestamp and a hex digest or two; thousands of digits are not one.
MAX_SIGNATURE_HEADER = 512


@bp.post("/callback/<gateway>")
@bp.post("/callback/<gateway>/<reference>", endpoint="callback_for")
@limiter.limit(lambda: current_app.config["CALLBACK_REJECT_RATE_LIMIT"],
               deduct_when=lambda response: response.status_code in REJECTED,
               error_message="too many rejected callbacks from this address")
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
    body = _read_body(limit)
    if body is None:
        return jsonify(error="body too large"), 413
    inbound = Inbound(
        headers=dict(request.headers),
        body=body,
        form=request.form.to_dict(),
        query=request.args.to_dict(),
        url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?"),
        content_type=request.mimetype or "",
        path_reference=reference[:40] if reference else None,
    )
    problem = unreadable(inbound)
    if problem:
        return _reject(gateway, inbound, problem)
    status, answer = handle_callback(gateway, inbound)
    return jsonify(answer), status


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is over ``limit`` (also a chunked one, which has no
    Content-Length: it is refused whole, never cut to the limit and read as if complete)."""
    request.max_content_length = limit + 1  # werkzeug stops quietly at the maximum: one byte more tells
    try:
        body = request.get_data(cache=True)
        request.form  # noqa: B018 (parsed now, under the same limit)
    except RequestEntityTooLarge:
        return None
    return None if len(body) > limit else body


def unreadable(inbound: Inbound) -> str | None:
    """Why this callback cannot be read safely (JSON nested too deep or holding a lone
    surrogate, a signature header that is not ASCII or absurdly long), or None."""
    for name, value in inbound.headers.items():
        if "signature" in name.lower() or "timestamp" in name.lower():
            if not value.isascii():
                return f"{name} header is not ASCII"
            if len(value) > MAX_SIGNATURE_HEADER:
                return f"{name} header is too long"
    stripped = inbound.body.lstrip()
    if not stripped.startswith((b"{", b"[")):
        return None
    try:
        data = json.loads(stripped)
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError:
        return None  # not JSON after all: the gateway's module says what is wrong
    return json_problem(data)


def json_problem(data: object) -> str | None:
    """Depth beyond MAX_JSON_DEPTH or a string that is not valid Unicode, found without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return "JSON nested too deeply"
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str) and not _is_unicode(value):
            return "JSON string holds a lone surrogate escape"
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _reject(gateway: str, inbound: Inbound, problem: str):
    """Log a callback refused before any gateway module read it (raw body, headers), answer 400."""
    event = log_event(None, gateway, "callback", inbound.body, note=f"rejected: {problem}")
    event.headers = callback_headers(inbound)
    event.rejection = Rejection.MALFORMED.value
    db.session.commit()
    current_app.logger.warning("callback for %s rejected: %s", gateway, problem)
    return jsonify(error=f"malformed callback: {problem}"), 400


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
        refresh_status(payment, force=True, kind="return", note="customer came back (callback URL)",
                       wait=pacing.RETURN_WAIT_SECONDS)
    return redirect(url_for("checkout.order", token=payment.order.token), 303)
