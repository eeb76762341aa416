"""Payment attempts: starting one, and the one way a payment's status changes.

``apply_update`` is called from callbacks, the order page, the landings and
reconciliation. It only moves forward, is idempotent, and uses conditional
UPDATEs so concurrent updates of one payment serialize on every database.
"""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from extensions import db
from models import Order, Payment, PaymentEvent, Product, utcnow
from providers.base import (
    CheckoutRequest,
    Inbound,
    InvalidCallback,
    Line,
    PaymentRef,
    ProviderError,
    ProviderUnavailable,
    StatusReport,
    redact,
)
from providers import REGISTRY
from services import mail
from services.bulkhead import GatewayBusy, gateway_slot
from services.gateways import get_provider
from services.orders import new_reference

log = logging.getLogger(__name__)

#: Allowed moves: status → statuses it may become. A success may still arrive
#: late on an attempt we had given up on: it is recorded, never dropped.
FORWARD = {
    "created": {"pending", "succeeded", "failed", "cancelled", "expired", "error"},
    "pending": {"succeeded", "failed", "cancelled", "expired"},
    "failed": {"succeeded"},
    "cancelled": {"succeeded"},
    "expired": {"succeeded"},
    "error": {"pending", "succeeded"},
    "succeeded": set(),
}
PAYLOAD_LIMIT = 20_000
#: Callback headers kept in the event log for the merchant: these, and any whose
#: name hints at a signature or event id. Cookies and credentials are never kept.
CALLBACK_HEADERS = ("content-type", "content-length", "user-agent", "x-forwarded-for", "x-request-id")
CALLBACK_HEADER_HINTS = ("sign", "hmac", "webhook", "event", "timestamp", "nonce")
_callback_headers: ContextVar[str | None] = ContextVar("callback_headers", default=None)


class PaymentStartError(Exception):
    """The gateway did not open a payment; the message is for the customer."""

    def __init__(self, message: str, http_status: int = 400):
        super().__init__(message)
        self.http_status = http_status


def log_event(payment: Payment | None, gateway: str, kind: str, payload: Any = None,
              *, verified: bool = False, note: str = "") -> PaymentEvent:
    """Append one event to a payment's log (secrets redacted); caller commits."""
    if isinstance(payload, (bytes, bytearray)):
        text = payload.decode("utf-8", "replace")
    else:
        text = json.dumps(redact(payload), default=str, ensure_ascii=False, sort_keys=True)
    text = text.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL
    event = PaymentEvent(
        payment=payment, gateway=gateway, kind=kind, payload=text[:PAYLOAD_LIMIT],
        verified=verified, note=note.replace("\x00", "")[:300], status_after=payment.status if payment else None,
        headers=_callback_headers.get() if kind == "callback" else None,
    )
    db.session.add(event)
    return event


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on the configured public base URL (never the Host header); works
    outside a request too (reconciliation writing an e-mail)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        path = current_app.url_map.bind("").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def checkout_request(order: Order, payment: Payment) -> CheckoutRequest:
    """What the gateway needs to open a payment for ``payment``."""
    shop = current_app.config["SHOP_NAME"]
    codes = dict(db.session.execute(  # one query for every line's product code
        select(Product.id, Product.irembopay_product_code)
        .where(Product.id.in_([l.product_id for l in order.lines]))
    ).all())
    return CheckoutRequest(
        reference=payment.reference,
        order_reference=order.reference,
        amount=payment.amount,
        currency=payment.currency,
        lines=tuple(
            Line(l.name, l.quantity, l.unit_price, l.line_total, codes.get(l.product_id))
            for l in order.lines
        ),
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        customer_phone=order.customer_phone,
        description=_description(shop, order),
        return_url=external_url("checkout.order_return", token=order.token, ref=payment.reference),
        cancel_url=external_url("checkout.order_cancel", token=order.token, ref=payment.reference),
        callback_url=external_url(
            "payments.callback_for", gateway=payment.gateway, reference=payment.reference
        ),
        order_url=external_url("checkout.order", token=order.token),
        expires_at=order.expires_at,
        store_name=shop,
        store_url=current_app.config["PUBLIC_BASE_URL"],
        language=order.language,
    )


def _description(shop: str, order: Order) -> str:
    """The line a gateway shows on its page, in the order's language."""
    with force_locale(order.language or "fr"):
        return _("%(shop)s — order %(reference)s", shop=shop, reference=order.reference)


def start_payment(order: Order, gateway: str) -> Payment:
    """Open a payment attempt at ``gateway`` for ``order``.

    The attempt is committed before the gateway is called and the gateway's
    ids before the caller redirects. A refusal leaves the attempt in ``error``
    with an event saying why, and raises PaymentStartError.
    """
    try:
        provider = get_provider(gateway)
    except KeyError:
        raise PaymentStartError(_("This payment method is not available.")) from None
    if not provider.accepts(provider.settings, order.currency):
        raise PaymentStartError(_("%(gateway)s does not accept %(currency)s.",
                                  gateway=provider.display_name, currency=order.currency))
    try:
        with gateway_slot(gateway, "create", current_app.config["GATEWAY_CONCURRENCY"]):
            payment = Payment(order=order, reference=new_reference("PAY", 12), gateway=gateway,
                              amount=order.total, currency=order.currency, status="created")
            db.session.add(payment)
            db.session.commit()
            sent = checkout_request(order, payment)
            _release_connection()  # no database connection held while the gateway thinks
            try:
                hosted = provider.create(sent)
            except ProviderError as exc:
                _record_create_failure(payment, exc)
                status = 503 if isinstance(exc, ProviderUnavailable) else 502
                raise PaymentStartError(_customer_message(provider.display_name, exc), status) from None
    except GatewayBusy:
        # No attempt is opened (the order stays pending, payable again): answered at once
        # instead of waiting behind the calls already stuck on this gateway.
        log.warning("order %s: %s busy, checkout answered 'try again'", order.reference, gateway)
        raise PaymentStartError(_("%(gateway)s is very busy right now. Your cart is saved: please try "
                                  "again in a moment, or choose another payment method.",
                                  gateway=provider.display_name), 503) from None
    _move(payment, "pending", gateway_ref=hosted.gateway_ref, redirect_url=hosted.redirect_url,
          gateway_ref2=hosted.gateway_ref2 or None)
    log_event(payment, gateway, "created", {"sent": hosted.sent, "received": hosted.raw},
              note=f"invoice opened, customer sent to {provider.display_name}")
    db.session.commit()
    log.info("payment %s for order %s opened at %s", payment.reference, order.reference, gateway)
    return payment


def _release_connection() -> None:
    """End the read-only transaction the request opened, giving its connection back to the
    pool, without expiring what was loaded (nothing was written since the last commit)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _record_create_failure(payment: Payment, exc: ProviderError) -> None:
    _move(payment, "error")
    log_event(payment, payment.gateway, "create-failed", None, note=str(exc))
    db.session.commit()
    log.warning("payment %s: %s", payment.reference, exc)


def _customer_message(display_name: str, exc: ProviderError) -> str:
    if isinstance(exc, ProviderUnavailable):
        return _("%(gateway)s could not be reached just now. Your cart is saved: please try again "
                 "in a moment, or choose another payment method.", gateway=display_name)
    return _("%(gateway)s could not open the payment. Your cart is saved: please check your details "
             "and try again, or choose another payment method.", gateway=display_name)


def _move(payment: Payment, new: str, **values: Any) -> bool:
    """Move ``payment`` to ``new`` only if that is a forward move from its current status."""
    sources = [status for status, targets in FORWARD.items() if new in targets]
    result = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(sources))
        .values(status=new, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(payment)  # someone else moved it first: read where it is now
        return False
    for key, value in {"status": new, **values}.items():
        set_committed_value(payment, key, value)  # what we just wrote, without reading it back
    return True


def next_url(payment: Payment) -> str:
    """Where to send the customer once ``payment`` is opened: the gateway's page, or,
    for gateways that never send the browser back, their order page (which links
    to the gateway) so that they know where to come back to."""
    provider = REGISTRY.get(payment.gateway)
    if payment.redirect_url and provider is not None and provider.returns_browser:
        return payment.redirect_url
    return url_for("checkout.order", token=payment.order.token)


def _mismatch(payment: Payment, report: StatusReport) -> str | None:
    if report.amount is None or report.currency is None:
        return "the gateway did not report the amount paid"
    if report.amount != payment.amount or report.currency != payment.currency:
        return (f"amount mismatch: expected {payment.amount} {payment.currency}, "
                f"gateway reports {report.amount} {report.currency}")
    return None


def flag(payment: Payment, reason: str) -> None:
    """Mark a payment for the merchant's attention (caller commits)."""
    payment.attention = reason[:200]
    log.warning("payment %s needs attention: %s", payment.reference, reason)


def apply_update(payment: Payment, report: StatusReport, *, kind: str, payload: Any = None,
                 verified: bool = True, note: str = "") -> bool:
    """Apply the gateway's verified word to ``payment`` and its order, in one transaction.

    Returns True when the payment's status changed. Duplicates and backward
    moves change nothing and are still logged.
    """
    new = report.status
    problem = _mismatch(payment, report)
    if problem and new == "succeeded":
        flag(payment, problem)
        log_event(payment, payment.gateway, kind, payload, verified=verified,
                  note=_join(note, f"not paid: {problem}"))
        db.session.commit()
        return False
    if problem and report.amount is not None:
        flag(payment, problem)  # not paid, but the merchant should know the gateway disagrees
    note = _join(note, _record_received(payment, report))
    changed = _move(payment, new)
    outcome = f"{payment.status}" if changed else f"no change (already {payment.status})"
    if changed and new == "succeeded":
        outcome = _pay_order(payment)
    elif changed and new == "failed" and payment.order.status == "pending":
        mail.enqueue(payment.order, "payment_failed", payment)
    log_event(payment, payment.gateway, kind, payload, verified=verified,
              note=_join(note, f"gateway says {new}: {outcome}"))
    db.session.commit()
    return changed


def _record_received(payment: Payment, report: StatusReport) -> str:
    """Keep what a part-payment gateway says has arrived; flag partial and overpayments."""
    received = report.amount_received
    if received is None or received == payment.amount_received:
        return ""
    payment.amount_received = received
    if report.status == "succeeded" and received > payment.amount:
        flag(payment, f"overpaid: received {received} {payment.currency} for {payment.amount}")
        return "overpaid"
    if report.status == "succeeded":
        if payment.attention and payment.attention.startswith("partially paid"):
            payment.attention = None
        return ""
    if 0 < received < payment.amount:
        flag(payment, f"partially paid: {received} of {payment.amount} {payment.currency}")
        return f"partially paid ({received} of {payment.amount})"
    return ""


def _pay_order(payment: Payment) -> str:
    now = utcnow()
    result = db.session.execute(
        update(Order)
        .where(Order.id == payment.order_id, Order.status == "pending")
        .values(status="paid", paid_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    order = db.session.get(Order, payment.order_id)
    if result.rowcount == 1:
        for key, value in {"status": "paid", "paid_at": now, "updated_at": now}.items():
            set_committed_value(order, key, value)
        mail.enqueue(order, "receipt", payment)  # in the transaction that won: one receipt
        log.info("order %s paid by %s", order.reference, payment.reference)
        return "order paid"
    db.session.refresh(order)
    flag(payment, f"money received on an order that is already {order.status}: refund or accept")
    return f"flagged: order already {order.status}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def payment_ref(payment: Payment) -> PaymentRef:
    """The stored ids of ``payment``, for asking its gateway."""
    return PaymentRef(payment.reference, payment.gateway_ref, payment.amount, payment.currency)


def refresh_status(payment: Payment, *, force: bool = False, kind: str = "status-check",
                   payload: Any = None, note: str = "", limited: bool = True) -> StatusReport | None:
    """Ask the gateway about an open payment (at most every STATUS_RECHECK_SECONDS
    unless forced) and apply its answer. None when nothing was asked or it failed.
    ``limited``: skip the call when the gateway's status slots are all taken (bulkhead);
    a callback's confirmation is not limited (the gateway paces its own callbacks)."""
    if not force and not _due_for_check(payment):
        return None
    payment.last_checked_at = utcnow()
    db.session.commit()
    try:
        with gateway_slot(payment.gateway, "status", current_app.config["GATEWAY_CONCURRENCY"] if limited else 0):
            report = get_provider(payment.gateway).fetch_status(payment_ref(payment))
    except GatewayBusy:
        return None  # the gateway's status slots are all taken: ask another time, do not queue
    except (ProviderError, KeyError) as exc:
        log_event(payment, payment.gateway, kind, payload, note=_join(note, f"status check failed: {exc}"))
        db.session.commit()
        return None
    apply_update(payment, report, kind=kind, payload=payload if payload is not None else report.raw,
                 note=note)
    return report


def _due_for_check(payment: Payment) -> bool:
    if payment.status not in Payment.ACTIVE or not payment.gateway_ref:
        return False
    if payment.last_checked_at is None:
        return True
    age = (utcnow() - payment.last_checked_at).total_seconds()
    return age >= current_app.config["STATUS_RECHECK_SECONDS"]


def customer_cancelled(payment: Payment, note: str = "customer came back through the cancel URL") -> None:
    """The customer gave up on this attempt: re-check, and if the gateway says
    nothing was paid, end it as cancelled so that a retry is offered."""
    report = refresh_status(payment, force=True, kind="return", note=note)
    if report is not None and report.status in ("pending", "failed"):
        if _move(payment, "cancelled"):
            log_event(payment, payment.gateway, "return", None,
                      note="attempt cancelled by the customer; the gateway confirmed nothing was paid")
            db.session.commit()


def find_payment(reference: str) -> Payment | None:
    """The payment with our ``reference``."""
    if "\x00" in reference:
        return None
    return db.session.scalar(select(Payment).where(Payment.reference == reference))


def callback_headers(inbound: Inbound) -> str:
    """The headers of a callback that help a person judge it, as JSON, secrets redacted;
    ``:path`` (as in HTTP/2) is the URL it was sent to, which may name the payment."""
    kept = {k: v[:300] for k, v in inbound.headers.items()
            if k.lower() in CALLBACK_HEADERS or any(h in k.lower() for h in CALLBACK_HEADER_HINTS)}
    kept[":path"] = urlsplit(inbound.url).path[:300] if inbound.url else ""
    return json.dumps(redact(kept), sort_keys=True)


def handle_callback(gateway: str, inbound: Inbound) -> tuple[int, dict]:
    """Handle one gateway callback: log it (with its headers), verify it, apply it.
    Returns (HTTP status, body)."""
    token = _callback_headers.set(callback_headers(inbound))
    try:
        return _handle_callback(gateway, inbound)
    finally:
        _callback_headers.reset(token)


def _handle_callback(gateway: str, inbound: Inbound) -> tuple[int, dict]:
    provider = get_provider(gateway)
    try:
        notice = provider.parse_callback(inbound)
    except InvalidCallback as exc:
        log_event(None, gateway, "callback", inbound.body, note=f"rejected: {exc}")
        db.session.commit()
        return 400, {"error": f"malformed callback: {exc}"}
    reference = notice.reference or inbound.path_reference or ""
    if inbound.path_reference and notice.reference and notice.reference != inbound.path_reference:
        log_event(None, gateway, "callback", notice.payload,
                  note="rejected: body and URL name different payments")
        db.session.commit()
        return 400, {"error": "payment reference mismatch"}
    payment = find_payment(reference)
    if payment is None or payment.gateway != gateway:
        log_event(None, gateway, "callback", notice.payload,
                  note=f"rejected: unknown reference {reference[:40]}")
        db.session.commit()
        return 404, {"error": "unknown payment reference"}
    if notice.gateway_ref and payment.gateway_ref and notice.gateway_ref != payment.gateway_ref:
        log_event(payment, gateway, "callback", notice.payload,
                  note=f"rejected: names {notice.gateway_ref[:60]}, not the stored gateway id")
        db.session.commit()
        return 400, {"error": "gateway id mismatch"}
    note = _join(notice.note, f"callback claims {notice.claimed_status or 'nothing readable'}")
    if notice.verified and notice.claimed_status:
        report = StatusReport(notice.claimed_status, notice.amount, notice.currency, notice.payload)
        apply_update(payment, report, kind="callback", payload=notice.payload, note=note)
    elif refresh_status(payment, force=True, kind="callback", payload=notice.payload, note=note,
                        limited=False) is None \
            and payment.status in Payment.ACTIVE:
        return 503, {"error": "could not confirm with the gateway; retry later"}
    return 200, {"ok": True, "status": payment.status}
