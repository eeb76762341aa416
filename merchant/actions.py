"""The merchant's actions on orders: every action is logged with its author.

Actions change state with conditional UPDATEs (a second click, or a gateway
update in between, changes nothing) and write a ``PaymentEvent`` carrying the
order, the admin's e-mail as ``actor`` and what was done, in the same transaction.
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from core.money import format_money, parse_major
from extensions import db
from merchant.accounts import AdminError
from models import Order, Payment, PaymentEvent, utcnow
from orders import lifecycle as order_service
from orders import states
from orders.states import REFUND_METHODS, OrderStatus
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


GOODS_GONE = ("This order's goods have left the shop (shipped, ready for pickup or handed over): "
              "{what} is not offered here. If you refund at the gateway anyway, add a note here.")


def cancel(order: Order, actor: str, reason: str = "", restock: list[int] | None = None) -> str:
    """Cancel a pending or paid order. Open attempts are asked first (so an order that was in
    fact paid is not cancelled as unpaid) and then ended; stock goes back for every line, or
    for the lines in ``restock``. A paid order needs a reason (the customer sees it); its money
    stays recorded as received until refunded. Returns what happened."""
    reason = reason.strip()
    if order.status not in (OrderStatus.PENDING, OrderStatus.PAID):
        raise AdminError(f"Only a pending or paid order can be cancelled; this one is {order.status}.")
    if order.status == OrderStatus.PAID:
        if order.fulfilment_status in states.FULFILMENT_GONE:
            raise AdminError(GOODS_GONE.format(what="cancelling it"))
        if not reason:
            raise AdminError("Say why this paid order is cancelled: the customer will see it.")
    if restock is not None:
        known = {line.id for line in order.lines}
        if not set(restock) <= known:
            raise AdminError("Choose stock to put back among this order's lines.")
    was = order.status
    for payment in [p for p in order.payments if p.status in Payment.ACTIVE and p.gateway_ref]:
        refresh_status(payment, force=True, kind="status-check", note=f"before cancel by {actor}")
    db.session.refresh(order)
    if order.status != was:
        raise AdminError(f"The order was not cancelled: it is now {order.status}. Look again before cancelling.")
    if not order_service.cancel_order(order, actor=actor, note=reason, reason=reason, restock=restock):
        db.session.refresh(order)
        raise AdminError(f"The order was not cancelled: it is now {order.status}.")
    back = "all of its stock is back on sale" if restock is None else f"stock back for {len(restock)} line(s)"
    due = f"; {money(order.refundable, order.currency)} received, to refund" if order.refundable else ""
    return f"Order cancelled; {back}{due}."


def money(amount: int, currency: str) -> str:
    """An amount as the (English) dashboard writes it."""
    return format_money(amount, currency, "en")


def refunded_quantities(order: Order) -> dict[int, int]:
    """Per line id, how many units earlier refunds gave back (``Refund.lines``: "id x qty, …")."""
    done: dict[int, int] = {}
    for refund in order.refunds:
        for part in filter(None, refund.lines.split(",")):
            line_id, _x, quantity = part.strip().partition("x")
            if line_id.strip().isdigit() and quantity.strip().isdigit():
                done[int(line_id)] = done.get(int(line_id), 0) + int(quantity)
    return done


def refund(order: Order, actor: str, *, method: str, amount_text: str = "", full: bool = False,
           quantities: dict[int, int] | None = None, reference: str = "", note: str = "") -> str:
    """Record money given back to the customer (outside the gateway): everything left
    (``full``), an amount (major units, as typed) or some units of some lines; never more than
    was received (states.record_refund). Returns what happened."""
    quantities = {k: v for k, v in (quantities or {}).items() if v}
    if method not in REFUND_METHODS:
        raise AdminError("Choose how the money went back.")
    if order.status == OrderStatus.PAID and order.fulfilment_status in states.FULFILMENT_GONE:
        raise AdminError(GOODS_GONE.format(what="refunding it"))
    if order.refundable <= 0:
        raise AdminError(f"Nothing is left to refund on this order ({order.status}).")
    chosen = sum(1 for given in (full, bool(amount_text.strip()), bool(quantities)) if given)
    if chosen != 1:
        raise AdminError("Refund either everything left, an amount, or some lines: one of the three.")
    lines = ""
    if full:
        amount = order.refundable
    elif amount_text.strip():
        try:
            amount = parse_major(amount_text, order.currency)
        except ValueError as exc:
            raise AdminError(str(exc)) from None
    else:
        by_id = {line.id: line for line in order.lines}
        done = refunded_quantities(order)
        amount = 0
        for line_id, quantity in sorted(quantities.items()):
            line = by_id.get(line_id)
            if line is None or quantity < 0:
                raise AdminError("Choose lines of this order to refund.")
            if quantity > line.quantity - done.get(line_id, 0):
                raise AdminError(f"At most {line.quantity - done.get(line_id, 0)} of {line.name} can be refunded.")
            amount += line.unit_price * quantity
        lines = ", ".join(f"{line_id}x{quantity}" for line_id, quantity in sorted(quantities.items()))
    if amount > order.refundable:
        raise AdminError(f"At most {money(order.refundable, order.currency)} can still be refunded "
                         f"(received {money(order.amount_received, order.currency)}, refunded "
                         f"{money(order.amount_refunded, order.currency)}).")
    recorded = states.record_refund(order, amount, actor=actor, method=method, reference=reference.strip(),
                                    lines=lines, note=note.strip())
    if recorded is None:
        db.session.rollback()
        db.session.refresh(order)
        raise AdminError(f"Not recorded: only {money(order.refundable, order.currency)} is left to refund "
                         "(another refund was recorded meanwhile).")
    db.session.commit()
    db.session.refresh(order)
    state = "refunded in full" if order.refundable == 0 else f"{money(order.refundable, order.currency)} left refundable"
    return f"Refund of {money(amount, order.currency)} recorded; {state}."


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


# cash on delivery / pay at pickup (docs/cash-on-delivery.md)

def collect(order: Order, actor: str, amount_text: str) -> str:
    """The cash order was handed over and paid: record the amount collected (major units, as
    typed) through states.record_collection. An attempt still open online is asked first (it
    may have been paid after all). Returns what happened."""
    if not order.cash_due:
        raise AdminError(f"Only a pending cash order can be recorded as paid in cash; this one is {order.status}.")
    try:
        amount = parse_major(amount_text, order.currency)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    if amount <= 0:
        raise AdminError("Give the amount collected (above zero). If the customer refused the order, "
                         "record the refusal instead.")
    for payment in [p for p in order.payments if p.status in Payment.ACTIVE and p.gateway_ref]:
        refresh_status(payment, force=True, kind="status-check", note=f"before cash collection by {actor}")
    db.session.refresh(order)
    if not order.cash_due:
        raise AdminError(f"Not recorded: the order is now {order.status} (paid online?). Look again.")
    if not states.record_collection(order, amount, actor=actor):
        db.session.rollback()
        db.session.refresh(order)
        raise AdminError(f"Not recorded: the order is {order.status}, fulfilment "
                         f"{order.fulfilment_status.replace('_', ' ')}. Mark it shipped (or ready for "
                         "pickup) first: the cash is collected when the goods are handed over.")
    db.session.commit()
    short = order.total - amount
    if short > 0:
        return (f"Recorded: {money(amount, order.currency)} collected, {money(short, order.currency)} short "
                "of the total; flagged for attention.")
    if short < 0:
        return f"Recorded: {money(amount, order.currency)} collected, {money(-short, order.currency)} over the total; flagged."
    return f"Recorded: {money(amount, order.currency)} collected; the order is paid and delivered."


def refuse(order: Order, actor: str, reason: str = "") -> str:
    """The customer refused the cash order (or never collected it): cancelled, stock back."""
    if not order.cash_due:
        raise AdminError(f"Only a pending cash order can be recorded as refused; this one is {order.status}.")
    if not order_service.refuse_cash(order, actor=actor, reason=reason):
        db.session.refresh(order)
        raise AdminError(f"Not recorded: the order is now {order.status}.")
    return "Recorded as refused / returned: the order is cancelled and its stock is back on sale."
