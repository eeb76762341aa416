"""What a person must look at: stuck payments, flagged payments, rejected callbacks.

Flags (``Payment.attention_kind``, with the amounts involved) are raised through
``orders.states.flag``: amount mismatches, partial and overpayments, money on
cancelled, expired or already-paid orders, statuses a gateway sent that we do not know.
Rejected callbacks are the log's ``callback`` events with a ``rejection`` (bad
signature or malformed, unknown reference, mismatched ids).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from core.money import format_money
from core.references import REFERENCE_ALPHABET
from extensions import db
from models import Order, Payment, PaymentEvent, utcnow
from orders.states import ACTIVE_PAYMENT, AttentionKind, OrderStatus

#: Our payment references as ``new_reference("PAY", 12)`` makes them.
PAYMENT_REFERENCE = re.compile(rf"PAY-[{REFERENCE_ALPHABET}]{{12}}")
LIST_LIMIT = 200


#: What each flag means to the merchant; amounts are added when the flag carries them.
ATTENTION_LABELS = {
    AttentionKind.AMOUNT_MISMATCH: "Amount mismatch: the gateway reports {amount}, the order asks {expected}",
    AttentionKind.AMOUNT_MISSING: "The gateway said paid without saying how much",
    AttentionKind.PARTIAL: "Partially paid: {amount} of {expected}",
    AttentionKind.OVERPAID: "Overpaid: {amount} received for {expected}",
    AttentionKind.SHORTFALL: "Paid short by {short}: {amount} of {expected}",
    AttentionKind.PAID_ON_CLOSED_ORDER: "Money received on a closed order",
    AttentionKind.UNKNOWN_STATUS: "The gateway sent a status we do not know",
    AttentionKind.OTHER: "Needs a look",
}


def describe(payment: Payment) -> str:
    """The flag in words, amounts in major units with the currency ("$3.00 of $9.00")."""
    if payment.attention_kind is None:
        return ""
    label = ATTENTION_LABELS.get(AttentionKind(payment.attention_kind), "Needs a look")

    def money(value: int | None) -> str:
        return format_money(value, payment.currency, "en") if value is not None else "an unknown amount"

    amount, expected = payment.attention_amount, payment.attention_expected
    short = expected - amount if amount is not None and expected is not None else None
    text = label.format(amount=money(amount), expected=money(expected), short=money(short))
    return f"{text} — {payment.attention}" if payment.attention else text


def reference_in(event: PaymentEvent) -> str | None:
    """The first payment reference of ours in a logged callback's body or called URL."""
    match = PAYMENT_REFERENCE.search(f"{event.payload or ''} {event.headers or ''}")
    return match.group(0) if match else None


@dataclass
class RejectedCallback:
    event: PaymentEvent
    order: Order | None


@dataclass
class Attention:
    stuck: list[Payment] = field(default_factory=list)
    flagged: list[Payment] = field(default_factory=list)
    rejected: list[RejectedCallback] = field(default_factory=list)
    minutes: int = 0


def _cutoff():
    return utcnow() - timedelta(minutes=current_app.config["ATTENTION_PENDING_MINUTES"])


def _stuck_filter():
    return (Payment.status.in_(ACTIVE_PAYMENT), Payment.created_at <= _cutoff(),
            Order.status == OrderStatus.PENDING)


def _rejected_filter():
    return (PaymentEvent.rejection.is_not(None), PaymentEvent.reviewed_at.is_(None))


def counts() -> dict[str, int]:
    """How many payments are stuck or flagged, and callbacks rejected but not reviewed."""
    def count(stmt) -> int:
        return db.session.scalar(stmt) or 0

    return {
        "stuck": count(select(func.count()).select_from(Payment).join(Order).where(*_stuck_filter())),
        "flagged": count(select(func.count()).select_from(Payment).where(Payment.attention_kind.is_not(None))),
        "rejected": count(select(func.count()).select_from(PaymentEvent).where(*_rejected_filter())),
    }


def _payments(*conditions) -> list[Payment]:
    stmt = (select(Payment).join(Payment.order).options(contains_eager(Payment.order))
            .where(*conditions).order_by(Payment.created_at).limit(LIST_LIMIT))
    return list(db.session.scalars(stmt))


def rejected_callbacks() -> list[RejectedCallback]:
    """Rejected callbacks not yet reviewed, newest first, with the order each one names."""
    events = list(db.session.scalars(
        select(PaymentEvent).where(*_rejected_filter()).order_by(PaymentEvent.id.desc()).limit(LIST_LIMIT)
    ))
    refs = {ref for ref in (reference_in(e) for e in events) if ref}
    by_ref = {}
    if refs:
        rows = db.session.execute(
            select(Payment.reference, Order).join(Order, Order.id == Payment.order_id)
            .where(Payment.reference.in_(refs))
        )
        by_ref = {ref: order for ref, order in rows}
    return [RejectedCallback(e, by_ref.get(reference_in(e) or "")) for e in events]


def needs_attention() -> Attention:
    """Everything the attention page lists (each list capped at LIST_LIMIT)."""
    return Attention(
        stuck=_payments(*_stuck_filter()),
        flagged=_payments(Payment.attention_kind.is_not(None)),
        rejected=rejected_callbacks(),
        minutes=current_app.config["ATTENTION_PENDING_MINUTES"],
    )
