"""Payment attempts: starting one, and applying what a gateway says about it.

``apply_update`` is called from callbacks, the order page, the landings and
reconciliation. Every status change goes through ``orders.states.transition``
(conditional UPDATEs, forward only, idempotent, logged with its actor).
"""
from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core import jobs, requestlog
from core.references import new_reference
from core.urls import external_url
from extensions import db
from models import Order, Payment, PaymentEvent, Product, shop_identity, utcnow
from orders import states
from orders.states import AttentionKind, PaymentStatus, Rejection
from payments import deferred, pacing
from payments.bulkhead import GatewayBusy, gateway_slot
from payments.gateways import get_provider
from providers import REGISTRY
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

log = logging.getLogger(__name__)

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


def checkout_request(order: Order, payment: Payment) -> CheckoutRequest:
    """What the gateway needs to open a payment for ``payment``."""
    shop = shop_identity(current_app.config).name
    codes = dict(db.session.execute(  # one query for every line's product code
        select(Product.id, Product.irembopay_product_code)
        .where(Product.id.in_([l.product_id for l in order.lines]))
    ).all())
    return CheckoutRequest(
        reference=payment.reference,
        order_reference=order.reference,
        amount=payment.amount,
        currency=payment.currency,
        lines=(*(Line(l.full_name, l.quantity, l.unit_price, l.line_total, codes.get(l.product_id))
                 for l in order.lines), *_delivery_line(order), *_discount_line(order)),
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


def _delivery_line(order: Order) -> tuple[Line, ...]:
    """The delivery fee as its own item (no product code: IremboPay bills it under the default one)."""
    if not order.delivery_fee:
        return ()
    with force_locale(order.language or "fr"):
        name = _("Delivery: %(place)s", place=order.delivery_label)
    return (Line(name[:200], 1, order.delivery_fee, order.delivery_fee, None),)


def _discount_line(order: Order) -> tuple[Line, ...]:
    """A promo code's saving as a negative line: the lines add up to the amount charged (a
    gateway that takes only positive items gets one line for the order: billable_lines)."""
    if not order.discount:
        return ()
    with force_locale(order.language or "fr"):
        name = _("Promo code %(code)s", code=order.promo_code)
    return (Line(name[:200], 1, -order.discount, -order.discount, None),)


def _description(shop: str, order: Order) -> str:
    """The line a gateway shows on its page, in the order's language."""
    with force_locale(order.language or "fr"):
        return _("%(shop)s — order %(reference)s", shop=shop, reference=order.reference)


def start_payment(order: Order, gateway: str) -> Payment:
    """Open a payment attempt at ``gateway`` for ``order``, or return the one already in flight.

    The attempt is committed before the gateway is called and the gateway's ids before the
    caller redirects. The database keeps one open attempt per order: a second submit (a
    double-tap) gets the first attempt back. Any failure of the create call, expected or not,
    ends the attempt in ``error`` with the reason; an expected refusal raises PaymentStartError.
    """
    try:
        provider = get_provider(gateway)
    except KeyError:
        raise PaymentStartError(_("This payment method is not available.")) from None
    if not provider.accepts(provider.settings, order.currency):
        raise PaymentStartError(_("%(gateway)s does not accept %(currency)s.",
                                  gateway=provider.display_name, currency=order.currency))
    end_stale_attempts(order)
    # The database decides first which request opens the attempt (one open per order): a
    # double-tap gets the first attempt back and never competes for the gateway's slots.
    payment, inserted = _insert_attempt(order, gateway)
    requestlog.tag(order=order.reference, payment=payment.reference)
    if not inserted:
        return payment  # another request opened it: its next step is the customer's
    try:
        with gateway_slot(gateway, "create", current_app.config["GATEWAY_CONCURRENCY"]):
            sent = checkout_request(order, payment)
            _release_connection()  # no database connection held while the gateway thinks
            hosted = _create(provider, payment, sent)
    except GatewayBusy:
        # Answered at once instead of waiting behind the calls already stuck on this gateway;
        # the attempt never reached it and is withdrawn: the order stays pending, payable again.
        _withdraw(payment)
        log.warning("order %s: %s busy, checkout answered 'try again'", order.reference, gateway)
        raise PaymentStartError(_("%(gateway)s is very busy right now. Your cart is saved: please try "
                                  "again in a moment, or choose another payment method.",
                                  gateway=provider.display_name), 503) from None
    _open(payment, provider.display_name, hosted)
    return payment


def _withdraw(payment: Payment) -> None:
    """Remove an attempt that was never sent to its gateway (nothing can have been paid on it)."""
    db.session.rollback()
    db.session.execute(delete(Payment).where(
        Payment.id == payment.id, Payment.status == PaymentStatus.CREATED, Payment.gateway_ref.is_(None)))
    db.session.commit()


def _create(provider: Any, payment: Payment, sent: CheckoutRequest) -> Any:
    """The gateway's create call; any failure ends the attempt in ``error`` with the reason."""
    try:
        return provider.create(sent)
    except ProviderError as exc:
        _record_create_failure(payment, str(exc))
        status = 503 if isinstance(exc, ProviderUnavailable) else 502
        raise PaymentStartError(_customer_message(provider.display_name, exc), status) from None
    except Exception as exc:  # a bug or an answer nobody foresaw: the attempt ends, the customer is told
        log.exception("payment %s: unexpected error while opening it", payment.reference)
        _record_create_failure(payment, f"unexpected {type(exc).__name__} while opening: {exc}")
        raise PaymentStartError(_customer_message(provider.display_name, ProviderError(str(exc))),
                                502) from None
    except BaseException as exc:  # the worker being stopped: never leave the attempt "created"
        _record_create_failure(payment, f"stopped ({type(exc).__name__}) while opening")
        raise


def _release_connection() -> None:
    """End the read-only transaction the request opened, giving its connection back to the
    pool, without expiring what was loaded (nothing was written since the last commit)."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def _insert_attempt(order: Order, gateway: str) -> tuple[Payment, bool]:
    """Insert a new ``created`` attempt (True), or return the order's attempt already in flight."""
    payment = Payment(order=order, reference=new_reference("PAY", 12), gateway=gateway,
                      amount=order.total, currency=order.currency)
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:  # uq_payment_one_open_per_order: another attempt is open
        db.session.rollback()
        db.session.refresh(order)
        existing = order.active_payment
        if existing is None:
            raise
        return existing, False
    return payment, True


def _open(payment: Payment, display_name: str, hosted: Any) -> None:
    """The gateway opened the invoice: keep its ids, the attempt is now pending. Only from
    ``created``: an attempt settled meanwhile (end_stale_attempts: this answer came later than
    the gateway's timeouts allow) is not reopened, and its page is never shown."""
    change = states.transition(payment, PaymentStatus.PENDING, actor=states.SYSTEM,
                               why=f"invoice opened, customer sent to {display_name}",
                               when=[Payment.status == PaymentStatus.CREATED],
                               values={"gateway_ref": hosted.gateway_ref, "redirect_url": hosted.redirect_url,
                                       "gateway_ref2": hosted.gateway_ref2 or None})
    note = f"invoice opened, customer sent to {display_name}"
    if change is None:
        note = (f"{display_name} answered after this attempt was settled ({payment.status}); invoice "
                f"{str(hosted.gateway_ref)[:60]} kept here only")
    log_event(payment, payment.gateway, "created", {"sent": hosted.sent, "received": hosted.raw}, note=note)
    db.session.commit()
    log.info("payment %s for order %s opened at %s", payment.reference, payment.order.reference,
             payment.gateway)


def _record_create_failure(payment: Payment, reason: str) -> None:
    db.session.rollback()
    db.session.refresh(payment)
    states.transition(payment, PaymentStatus.ERROR, actor=states.SYSTEM, why=reason[:200])
    log_event(payment, payment.gateway, "create-failed", None, note=reason)
    db.session.commit()
    log.warning("payment %s: %s", payment.reference, reason)


#: Added to a create's timeouts before an attempt still unanswered is judged left behind.
OPEN_GRACE_SECONDS = 2.0


def open_deadline(gateway: str) -> float:
    """Seconds after which an attempt still ``created`` cannot be waiting for its gateway any
    more: the create's calls, each within GATEWAY_TIMEOUT_SECONDS, and a little grace."""
    provider = REGISTRY.get(gateway)
    calls = provider.create_calls if provider is not None else 1
    return current_app.config["GATEWAY_TIMEOUT_SECONDS"] * calls + OPEN_GRACE_SECONDS


def end_stale_attempts(order: Order) -> int:
    """Settle attempts of ``order`` left ``created`` with no gateway id by a request that
    stopped while opening them (a dyno restart, an OOM kill), once they are older than their
    gateway's ``open_deadline``. Returns how many were settled, so a new attempt is possible.

    A gateway that can be asked by our reference is asked: an invoice it opened is taken up
    (the customer is sent to its page, never to a second one); none, and the attempt ends. A
    gateway that cannot be asked never showed its page to anyone: the attempt ends. When the
    gateway cannot answer now, the attempt waits, up to CREATED_STALE_SECONDS.
    """
    now = utcnow()
    unopened = db.session.scalars(select(Payment).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.CREATED,
        Payment.gateway_ref.is_(None)).order_by(Payment.id))
    settled = 0
    for payment in list(unopened):
        age = (now - payment.created_at).total_seconds()
        if age >= open_deadline(payment.gateway):
            settled += _settle_unopened(payment, give_up=age >= current_app.config["CREATED_STALE_SECONDS"])
    return settled


def _settle_unopened(payment: Payment, *, give_up: bool) -> int:
    """Take up or end one attempt whose create was never answered (see end_stale_attempts)."""
    provider = REGISTRY.get(payment.gateway)
    found, note = None, "never opened at the gateway (the request creating it stopped)"
    if provider is not None and provider.looks_up_by_reference:
        try:
            found = get_provider(payment.gateway).find_by_reference(payment_ref(payment))
        except (ProviderError, KeyError) as exc:
            if not give_up:
                log_event(payment, payment.gateway, "lookup", None, note=_join(
                    f"left open for now: could not ask {payment.gateway} whether it opened it", str(exc)))
                db.session.commit()
                return 0
            note = f"ended after {current_app.config['CREATED_STALE_SECONDS']} s: the gateway could not be asked"
        else:
            note = (f"{payment.gateway} has no invoice under our reference: never opened "
                    "(the request creating it stopped)")
    if found is not None and found.redirect_url:
        change = states.transition(
            payment, PaymentStatus.PENDING, actor=states.SYSTEM, when=[Payment.gateway_ref.is_(None)],
            why=f"taken up: {payment.gateway} had opened it (the request creating it stopped first)",
            values={"gateway_ref": found.gateway_ref, "redirect_url": found.redirect_url})
        if change is not None:
            log_event(payment, payment.gateway, "lookup", found.raw,
                      note="the gateway had opened this invoice: the customer is sent to it")
        db.session.commit()
        return int(change is not None)
    if found is not None:
        note = (f"{payment.gateway} opened it, but its answer never reached us and its page is "
                "not known: no customer can have seen it; ended")
    change = states.transition(payment, PaymentStatus.ERROR, actor=states.SYSTEM, why=note[:200],
                               when=[Payment.gateway_ref.is_(None)],
                               values={"gateway_ref": found.gateway_ref} if found is not None else None)
    if change is not None:
        log_event(payment, payment.gateway, "lookup", found.raw if found is not None else None, note=note)
    db.session.commit()
    return int(change is not None)


def _customer_message(display_name: str, exc: ProviderError) -> str:
    if isinstance(exc, ProviderUnavailable):
        return _("%(gateway)s could not be reached just now. Your cart is saved: please try again "
                 "in a moment, or choose another payment method.", gateway=display_name)
    return _("%(gateway)s could not open the payment. Your cart is saved: please check your details "
             "and try again, or choose another payment method.", gateway=display_name)


def next_url(payment: Payment) -> str:
    """Where to send the customer once ``payment`` is opened: the gateway's page, or,
    for gateways that never send the browser back (or an attempt still being opened by
    another request), their order page, which links to the gateway."""
    provider = REGISTRY.get(payment.gateway)
    if (payment.redirect_url and provider is not None and provider.returns_browser
            and payment.status in Payment.ACTIVE):
        return payment.redirect_url
    return url_for("checkout.order", token=payment.order.token)


def _mismatch(payment: Payment, report: StatusReport) -> tuple[AttentionKind, str] | None:
    if report.amount is None or report.currency is None:
        return AttentionKind.AMOUNT_MISSING, "the gateway did not report the amount paid"
    if report.amount != payment.amount or report.currency != payment.currency:
        return AttentionKind.AMOUNT_MISMATCH, ""
    return None


def apply_update(payment: Payment, report: StatusReport, *, kind: str, payload: Any = None,
                 verified: bool = True, note: str = "") -> bool:
    """Apply the gateway's verified word to ``payment`` and its order, in one transaction.

    Returns True when the payment's status changed. Duplicates and backward
    moves change nothing and are still logged.
    """
    new = PaymentStatus(report.status)
    if report.test_mode and new == PaymentStatus.SUCCEEDED and current_app.config["LIVE_MONEY_ONLY"]:
        states.flag(payment, AttentionKind.OTHER, f"{payment.gateway} says paid in test mode (a sandbox "
                    "key?): no real money; not paid. Check the gateway's key and dashboard")
        log_event(payment, payment.gateway, kind, payload, verified=verified,
                  note=_join(note, "not paid: a test-mode answer, and this shop takes live money only"))
        db.session.commit()
        return False
    if report.unknown_status is not None:  # kept open, raw value recorded, merchant told
        raw = report.unknown_status[:60]
        states.flag(payment, AttentionKind.UNKNOWN_STATUS, f"{payment.gateway} reported {raw!r}: "
                    "check the payment with the gateway")
        note = _join(note, f"{payment.gateway} reported an unknown status {raw!r}, kept open")
    problem = _mismatch(payment, report)
    if problem is None:  # the gateway's word now says how much, and it is right
        states.clear_flag(payment, AttentionKind.AMOUNT_MISSING)
    if report.unknown_status is None:  # and in a status we can read
        states.clear_flag(payment, AttentionKind.UNKNOWN_STATUS)
    if problem:
        flag_kind, detail = problem
        detail = detail or (f"amount mismatch: expected {payment.amount} {payment.currency}, "
                            f"gateway reports {report.amount} {report.currency}")
        if new == PaymentStatus.SUCCEEDED or report.amount is not None:
            # not paid; or not a success, but the merchant should know the gateway disagrees
            states.flag(payment, flag_kind, amount=report.amount, expected=payment.amount)
        if new == PaymentStatus.SUCCEEDED:
            log_event(payment, payment.gateway, kind, payload, verified=verified,
                      note=_join(note, f"not paid: {detail}"))
            db.session.commit()
            return False
    note = _join(note, _record_received(payment, report))
    change = states.transition(payment, new, actor=states.gateway_actor(payment.gateway),
                               why=f"gateway says {new.value} ({kind})")
    if change is None:
        outcome = f"no change (already {payment.status})"
    else:
        outcome = change.summary or payment.status
    log_event(payment, payment.gateway, kind, payload, verified=verified,
              note=_join(note, f"gateway says {new.value}: {outcome}"))
    db.session.commit()
    return change is not None


def _record_received(payment: Payment, report: StatusReport) -> str:
    """Keep what a part-payment gateway says has arrived; flag partial and overpayments."""
    received = report.amount_received
    if received is None or received == payment.amount_received:
        return ""
    payment.amount_received = received
    if report.status == PaymentStatus.SUCCEEDED and received > payment.amount:
        states.flag(payment, AttentionKind.OVERPAID, amount=received, expected=payment.amount)
        return "overpaid"
    if report.status == PaymentStatus.SUCCEEDED:
        states.clear_flag(payment, AttentionKind.PARTIAL)
        if received < payment.amount:  # paid within the gateway's tolerance (FCFPay): shown, not flagged
            return f"paid short by {payment.amount - received} (within the gateway's tolerance)"
        return ""
    if 0 < received < payment.amount:
        states.flag(payment, AttentionKind.PARTIAL, amount=received, expected=payment.amount)
        return f"partially paid ({received} of {payment.amount})"
    return ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def payment_ref(payment: Payment) -> PaymentRef:
    """The stored ids of ``payment``, for asking its gateway."""
    return PaymentRef(payment.reference, payment.gateway_ref, payment.amount, payment.currency)


def refresh_status(payment: Payment, *, force: bool = False, kind: str = "status-check",
                   payload: Any = None, note: str = "", raise_if_paced: bool = False,
                   limited: bool = True, wait: float = 0.0) -> StatusReport | None:
    """Ask the gateway about an open payment (at most every STATUS_RECHECK_SECONDS
    unless forced) and apply its answer. None when nothing was asked or it failed.
    ``raise_if_paced``: pacing.Paced when the gateway's pacing said not now.
    ``limited``: skip the call when the gateway's status slots are all taken (bulkhead);
    a callback's confirmation is not limited (the gateway paces its own callbacks).
    ``wait``: seconds this caller may wait for the gateway's pacing window to close."""
    if not force and not _due_for_check(payment):
        return None
    # --- gateway pacing (issue 20): one conditional UPDATE decides who may ask; see payments/pacing.py
    interval = pacing.min_interval(payment.gateway)
    if not force:
        interval = max(interval, current_app.config["STATUS_RECHECK_SECONDS"])
    seen = pacing.latest_event_id(payment) if wait else 0
    if not pacing.claim_or_wait(payment, interval, wait):
        if wait and pacing.await_other_answer(payment, seen, wait):
            return None  # another path asked at the window's opening: its answer is applied
        if force:  # an explicit path (callback, return, reconciliation, dashboard) says why it did not ask
            log_event(payment, payment.gateway, kind, payload, note=_join(
                note, f"not asked: inside the gateway's pacing window (checked less than {interval:g} s ago)"))
            db.session.commit()
        if raise_if_paced:
            raise pacing.Paced()
        return None
    # --- end gateway pacing
    try:
        with gateway_slot(payment.gateway, "status", current_app.config["GATEWAY_CONCURRENCY"] if limited else 0):
            report = get_provider(payment.gateway).fetch_status(payment_ref(payment))
    except GatewayBusy:
        return None  # the gateway's status slots are all taken: ask another time, do not queue
    except (ProviderError, KeyError) as exc:
        if isinstance(exc, ProviderUnavailable):
            pacing.rest(payment.gateway, exc.retry_after)  # issue 20: honour Retry-After
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
    """The customer gave up on this attempt: re-check, and if the gateway says nothing was
    paid, end it as cancelled so that a retry is offered. An attempt on which some money
    arrived is never cancelled as if empty: it stays open and is flagged for the merchant."""
    report = refresh_status(payment, force=True, kind="return", note=note)
    if report is None or report.status not in ("pending", "failed"):
        return
    if payment.amount_received:
        states.flag(payment, AttentionKind.PARTIAL, "the customer asked to pay another way",
                    amount=payment.amount_received, expected=payment.amount)
        log_event(payment, payment.gateway, "return", None,
                  note="not cancelled: money was received on this attempt")
        db.session.commit()
        return
    if states.transition(payment, PaymentStatus.CANCELLED, actor=states.CUSTOMER,
                         why="cancelled by the customer; the gateway confirmed nothing was paid"):
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
        _reject(None, gateway, inbound.body, Rejection.MALFORMED, f"rejected: {exc}")
        return 400, {"error": f"malformed callback: {exc}"}
    reference = notice.reference or inbound.path_reference or ""
    if inbound.path_reference and notice.reference and notice.reference != inbound.path_reference:
        _reject(None, gateway, notice.payload, Rejection.REFERENCE_MISMATCH,
                "rejected: body and URL name different payments")
        return 400, {"error": "payment reference mismatch"}
    payment = find_payment(reference)
    if payment is None or payment.gateway != gateway:
        _reject(None, gateway, notice.payload, Rejection.UNKNOWN_REFERENCE,
                f"rejected: unknown reference {reference[:40]}")
        return 404, {"error": "unknown payment reference"}
    requestlog.tag(order=payment.order.reference, payment=payment.reference)
    if notice.gateway_ref and payment.gateway_ref and notice.gateway_ref != payment.gateway_ref:
        _reject(payment, gateway, notice.payload, Rejection.GATEWAY_ID_MISMATCH,
                f"rejected: names {notice.gateway_ref[:60]}, not the stored gateway id")
        return 400, {"error": "gateway id mismatch"}
    note = _join(notice.note, f"callback claims {notice.claimed_status or 'nothing readable'}")
    if notice.verified and notice.claimed_status:
        claimed = StatusReport(notice.claimed_status, notice.amount, notice.currency, notice.payload)
        apply_update(payment, claimed, kind="callback", payload=notice.payload, note=note)
        return 200, {"ok": True, "status": payment.status}
    try:
        report = refresh_status(payment, force=True, kind="callback", payload=notice.payload, note=note,
                                raise_if_paced=True, limited=False)
    except pacing.Paced:  # someone asked just now: ask again the moment the window opens
        delay = pacing.window_left(payment, pacing.min_interval(payment.gateway))
        _confirm_later(payment, delay, "inside the gateway's pacing window")
        return 200, {"ok": True, "status": payment.status}
    if report is None and payment.status in Payment.ACTIVE:
        resting = pacing.resting(payment.gateway)
        if resting:  # the gateway said when to ask again (429/5xx with Retry-After): ask then too
            _confirm_later(payment, resting, "the gateway asked us to wait (Retry-After)")
        return 503, {"error": "could not confirm with the gateway; retry later"}
    return 200, {"ok": True, "status": payment.status}


#: Added to a deferred confirmation's delay, so that it lands just after the window opens.
DEFER_MARGIN_SECONDS = 0.05


def _confirm_later(payment: Payment, delay: float, why: str) -> None:
    """Schedule the confirmation a callback could not make now: a job on the queue when there
    is one (any worker runs it; one job per payment and moment), else a timer in this process
    (payments/deferred.py)."""
    if jobs.enqueue("payments.attempts.deferred_confirm", payment.id, delay=delay + DEFER_MARGIN_SECONDS,
                    job_id=f"confirm-{payment.id}-{int(time.time() + delay)}",
                    description=f"confirm payment {payment.reference} with {payment.gateway}"):
        note = f"{why}: confirmation queued in {delay:.1f} s"
    elif deferred.later(payment.id, delay + DEFER_MARGIN_SECONDS, deferred_confirm):
        note = f"{why}: confirmation scheduled in {delay:.1f} s"
    else:
        note = f"{why}: confirmation left to reconciliation (could not schedule it in this process)"
    log_event(payment, payment.gateway, "callback-deferred", None, note=note)
    db.session.commit()


def deferred_confirm(payment_id: int) -> None:
    """The confirmation a callback scheduled: ask the gateway now that its window is open. If
    someone claimed the window a moment before (another process's timer, a callback, the return
    landing), they are asking: their answer is applied, and this one does not ask again."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status == PaymentStatus.SUCCEEDED:
        return  # (an attempt ended meanwhile, by a cancel, is still asked: a late success is recorded)
    refresh_status(payment, force=True, kind="callback-deferred", limited=False, wait=4 * DEFER_MARGIN_SECONDS,
                   note="confirmation scheduled by a callback that could not ask at once")


def _reject(payment: Payment | None, gateway: str, payload: Any, why: Rejection, note: str) -> None:
    """Log a refused callback with why it was refused (the attention page lists them)."""
    event = log_event(payment, gateway, "callback", payload, note=note)
    event.rejection = why.value
    db.session.commit()
