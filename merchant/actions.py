"""The merchant's actions on orders: every action is logged with its author.

Actions change state with conditional UPDATEs (a second click, or a gateway
update in between, changes nothing) and write a ``PaymentEvent`` carrying the
order, the admin's e-mail as ``actor`` and what was done, in the same transaction.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from extensions import db
from merchant.accounts import AdminError
from models import Order, Payment, PaymentEvent, utcnow
from orders import lifecycle as order_service
from orders import states
from orders.states import OrderStatus
from payments.attempts import refresh_status
from payments.attention import describe, reference_in

log = logging.getLogger(__name__)


def record(order: Order, actor: str, note: str, *, kind: str = "manual",
           payment: Payment | None = None, status_after: str | None = None) -> PaymentEvent:
    """Add a merchant action or note to the order's log (caller commits)."""
    event = PaymentEvent(
        order_id=order.id, payment_id=payment.id if payment else None, actor=actor,
        gateway=payment.gateway if payment else "", kind=kind, note=note[:300],
        status_after=status_after or (payment.status if payment else order.status),
    )
    db.session.add(event)
    return event


def add_note(order: Order, actor: str, text: str) -> None:
    """A free note on the order, kept in its log."""
    text = text.strip()
    if not text:
        raise AdminError("Write the note first.")
    record(order, actor, text, kind="note")
    db.session.commit()


# actions on orders

def recheck(order: Order, payment: Payment, actor: str) -> str:
    """Ask the gateway now about ``payment`` and apply its answer; returns what happened."""
    if payment.order_id != order.id:
        raise AdminError("This payment is not part of this order.")
    if not payment.gateway_ref:
        raise AdminError("This attempt never reached the gateway: there is nothing to ask it.")
    before = payment.status
    report = refresh_status(payment, force=True, kind="status-check", note=f"re-check asked by {actor}")
    db.session.refresh(payment)
    if report is None:
        outcome = "the gateway could not be asked (see the log)"
    else:
        outcome = f"gateway says {report.status}; payment {before} → {payment.status}"
    record(order, actor, f"re-checked {payment.reference} with the gateway: {outcome}", payment=payment)
    db.session.commit()
    return outcome


def cancel(order: Order, actor: str) -> None:
    """Cancel a pending order and release its stock; open attempts are asked first,
    so an order that was in fact paid is not cancelled."""
    if order.status != OrderStatus.PENDING:
        raise AdminError(f"Only a pending order can be cancelled; this one is {order.status}.")
    for payment in [p for p in order.payments if p.status in Payment.ACTIVE and p.gateway_ref]:
        refresh_status(payment, force=True, kind="status-check", note=f"before cancel by {actor}")
    db.session.refresh(order)
    if not order_service.cancel_order(order, actor=actor):
        db.session.refresh(order)
        raise AdminError(f"The order was not cancelled: it is now {order.status}.")


def mark_refunded(order: Order, actor: str, note: str = "") -> None:
    """Record that a paid order was refunded (the money goes back at the gateway)."""
    why = "marked refunded" + (f": {note.strip()}" if note.strip() else "")
    if order.fulfilment_status in states.FULFILMENT_GONE:
        raise AdminError("This order's goods have left the shop (shipped, ready for pickup or handed over): "
                         "refunding it is not offered here. If you refund at the gateway anyway, add a note here.")
    if not states.transition(order, OrderStatus.REFUNDED, actor=actor, why=why,
                             when=[Order.fulfilment_status.not_in(states.FULFILMENT_GONE)]):
        db.session.rollback()
        raise AdminError(f"Only a paid order can be marked refunded; this one is {order.status}.")
    db.session.commit()
    db.session.refresh(order)


def acknowledge(payment: Payment, actor: str, note: str = "") -> None:
    """Clear a payment's attention flag, keeping why it was raised and who cleared it."""
    reason = describe(payment)
    result = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.attention_kind.is_not(None))
        .values(attention_kind=None, attention=None, attention_amount=None, attention_expected=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AdminError("This payment no longer needs attention.")
    text = f"acknowledged “{reason}”" + (f": {note.strip()}" if note.strip() else "")
    record(payment.order, actor, text, payment=payment)
    db.session.commit()
    db.session.refresh(payment)


def review_callback(event: PaymentEvent, actor: str, note: str = "") -> None:
    """Mark a rejected callback as looked at, so it leaves the attention list."""
    result = db.session.execute(
        update(PaymentEvent).where(PaymentEvent.id == event.id, PaymentEvent.reviewed_at.is_(None))
        .values(reviewed_by=actor, reviewed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise AdminError("This callback was already reviewed.")
    order = linked_order(event)
    if order is not None:
        record(order, actor, f"reviewed rejected callback #{event.id}" + (f": {note.strip()}" if note.strip() else ""))
    db.session.commit()


def linked_order(event: PaymentEvent) -> Order | None:
    """The order a logged callback is about: its payment's, or one named in its body."""
    if event.payment is not None:
        return event.payment.order
    reference = reference_in(event)
    if reference is None:
        return None
    payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
    return payment.order if payment is not None else None
