"""The one owner of every status change.

The statuses of orders and payments are Enums here, each with one transition table, and
``transition()`` is the only code that writes a status: a conditional
``UPDATE … WHERE status IN (allowed sources)``, one event row saying what changed, why and
who did it, and the effects registered for that edge (e-mails, stock release, paying the
order, ending attempts), all in the caller's transaction. A move that is not in the table,
or that another process made first, changes nothing and returns ``None``.

Actors are plain strings: ``customer``, ``gateway:<name>``, ``reconciliation``, ``system``,
or the merchant's e-mail address for dashboard actions.

See docs/states.md for the diagrams.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ClauseElement

from core.references import new_reference
from delivery.options import CASH, HOME
from extensions import db
from mail import outbox as mail
from models import Order, Payment, PaymentEvent, PaymentLink, Refund, utcnow
from notifications import sms
from shop import promos
from shop.stock import release_stock, reserve_again

log = logging.getLogger(__name__)


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ERROR = "error"


class FulfilmentStatus(StrEnum):
    """Where a paid order's goods are (``Order.fulfilment_status``); forward only."""

    NOT_APPLICABLE = "not_applicable"      # no delivery chosen (orders placed before delivery existed)
    UNFULFILLED = "unfulfilled"            # paid, waiting for the merchant
    PREPARING = "preparing"
    SHIPPED = "shipped"                    # home delivery: handed to the courier
    READY_FOR_PICKUP = "ready_for_pickup"  # pickup: waiting at the point
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"


class AttentionKind(StrEnum):
    """Why a person must look at a payment (``Payment.attention_kind``)."""

    AMOUNT_MISMATCH = "amount_mismatch"    # the gateway reports another amount or currency
    AMOUNT_MISSING = "amount_missing"      # the gateway said paid without saying how much
    PARTIAL = "partial"                    # some money arrived, not all
    OVERPAID = "overpaid"                  # more arrived than was asked
    SHORTFALL = "shortfall"                # accepted a little under the total (conversion)
    PAID_ON_CLOSED_ORDER = "paid_closed"   # money on an order already paid, cancelled or expired
    UNKNOWN_STATUS = "unknown_status"      # the gateway answered a status we do not know
    OTHER = "other"


class Rejection(StrEnum):
    """Why a callback was refused (``PaymentEvent.rejection``)."""

    MALFORMED = "malformed"                # unreadable, or the signature does not hold
    UNKNOWN_REFERENCE = "unknown_reference"
    REFERENCE_MISMATCH = "reference_mismatch"
    GATEWAY_ID_MISMATCH = "gateway_id_mismatch"


O, P = OrderStatus, PaymentStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    O.PENDING: frozenset({O.PAID, O.CANCELLED, O.EXPIRED}),
    #: A paid order is refunded in full (record_refund), or cancelled by the merchant (its money
    #: stays recorded as received until refunded: the order page and dashboard say what is due).
    O.PAID: frozenset({O.REFUNDED, O.CANCELLED}),
    O.CANCELLED: frozenset(),
    #: A payment that arrives after the reservation ended pays the order if its stock can be
    #: held again (``_pay_order``); otherwise the order stays expired and the money is flagged.
    O.EXPIRED: frozenset({O.PAID}),
    O.REFUNDED: frozenset(),
}

#: A success may still arrive late on an attempt we had given up on: it is recorded, never dropped.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.CREATED: frozenset({P.PENDING, P.SUCCEEDED, P.FAILED, P.CANCELLED, P.EXPIRED, P.ERROR}),
    P.PENDING: frozenset({P.SUCCEEDED, P.FAILED, P.CANCELLED, P.EXPIRED}),
    P.FAILED: frozenset({P.SUCCEEDED}),
    P.CANCELLED: frozenset({P.SUCCEEDED}),
    P.EXPIRED: frozenset({P.SUCCEEDED}),
    P.ERROR: frozenset({P.PENDING, P.SUCCEEDED}),
    P.SUCCEEDED: frozenset(),
}

F = FulfilmentStatus

#: An order with a delivery method becomes unfulfilled when it is paid (effect of ("order", "paid")).
#: Shipped / delivered are for home delivery, ready for pickup / picked up for pickup: each
#: move of a dashboard action passes ``when=`` conditions on the method (orders.fulfilment).
FULFILMENT_TRANSITIONS: dict[FulfilmentStatus, frozenset[FulfilmentStatus]] = {
    F.NOT_APPLICABLE: frozenset({F.UNFULFILLED}),
    F.UNFULFILLED: frozenset({F.PREPARING}),
    F.PREPARING: frozenset({F.SHIPPED, F.READY_FOR_PICKUP}),
    F.SHIPPED: frozenset({F.DELIVERED}),
    F.READY_FOR_PICKUP: frozenset({F.PICKED_UP}),
    F.DELIVERED: frozenset(),
    F.PICKED_UP: frozenset(),
}
#: Once the parcel has left (or was collected), refunding is not offered by the dashboard.
FULFILMENT_GONE = (F.SHIPPED, F.READY_FOR_PICKUP, F.DELIVERED, F.PICKED_UP)

ACTIVE_PAYMENT = Payment.ACTIVE  # ("created", "pending"): the attempts in flight

CUSTOMER = "customer"
RECONCILIATION = "reconciliation"
SYSTEM = "system"


def gateway_actor(gateway: str) -> str:
    """The actor recorded for what a gateway's verified word changed."""
    return f"gateway:{gateway}"


@dataclass(frozen=True)
class Machine:
    """One status column and its table."""

    name: str
    model: Any  # a mapped class
    column: str
    table: Mapping[Any, frozenset]

    def sources(self, target: StrEnum) -> list[str]:
        return [s.value for s, targets in self.table.items() if target in targets]


@dataclass
class Change:
    """One transition that happened, handed to its effects."""

    obj: Any
    source: str | None
    target: StrEnum
    actor: str
    why: str
    context: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """What the effects did, for the caller's log line."""
        return "; ".join(self.notes)


Effect = Callable[[Change], None]

MACHINES: dict[type, Machine] = {
    OrderStatus: Machine("order", Order, "status", ORDER_TRANSITIONS),
    PaymentStatus: Machine("payment", Payment, "status", PAYMENT_TRANSITIONS),
}
EFFECTS: dict[tuple[str, str], list[Effect]] = {}


def register_machine(enum: type[StrEnum], machine: Machine) -> None:
    """Add a status column (fulfilment, payment links) to the owner."""
    MACHINES[enum] = machine


def allowed(current: str, target: StrEnum) -> bool:
    """True when ``current`` may move to ``target`` in its table."""
    return target in MACHINES[type(target)].table.get(current, frozenset())


def transition(obj: Any, target: StrEnum, *, actor: str, why: str,
               when: Iterable[Any] = (), values: Mapping[str, Any] | None = None,
               **context: Any) -> Change | None:
    """Move ``obj`` to ``target`` if its table allows it from where it is (and ``when`` holds).

    Writes the event row and runs the edge's effects in the current transaction (the caller
    commits). Returns the Change, or None when nothing moved (someone else moved it first,
    or the move is not allowed).
    """
    machine = MACHINES[type(target)]
    model, column = machine.model, getattr(machine.model, machine.column)
    source = getattr(obj, machine.column, None)
    now = utcnow()
    written = {machine.column: target.value, "updated_at": now, **(values or {})}
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, column.in_(machine.sources(target)), *when)
        .values(**written)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(obj)  # someone else moved it first: read where it is now
        return None
    computed = [key for key, value in written.items() if isinstance(value, ClauseElement)]
    for key, value in written.items():
        if key not in computed:
            set_committed_value(obj, key, value)  # what we just wrote, without reading it back
    if computed:  # an expression (amount_received + x): read what the database made of it
        db.session.refresh(obj, attribute_names=computed)
    change = Change(obj, source, target, actor, why, dict(context))
    event = _record(machine, change)
    for effect in EFFECTS.get((machine.name, target.value), ()):
        effect(change)
    if change.notes:
        event.note = f"{event.note}; {change.summary}"[:300]
    return change


def _record(machine: Machine, change: Change) -> PaymentEvent:
    obj = change.obj
    payment = obj if isinstance(obj, Payment) else change.context.get("payment")
    order_id = obj.id if isinstance(obj, Order) else getattr(obj, "order_id", None)
    note = f"{machine.name} {change.source or '?'} → {change.target.value}: {change.why}"
    event = PaymentEvent(
        order_id=order_id, payment_id=payment.id if isinstance(payment, Payment) else None,
        actor=change.actor[:254], gateway=payment.gateway if isinstance(payment, Payment) else "",
        kind="transition", note=note.replace("\x00", "")[:300], status_after=change.target.value,
    )
    db.session.add(event)
    log.info("%s %s: %s → %s by %s (%s)", machine.name, getattr(obj, "reference", obj.id),
             change.source, change.target.value, change.actor, change.why)
    return event


# attention flags

def flag(payment: Payment, kind: AttentionKind, detail: str = "", *,
         amount: int | None = None, expected: int | None = None) -> None:
    """Mark ``payment`` for the merchant's attention, with the amounts involved (caller commits)."""
    payment.attention_kind = kind.value
    payment.attention_amount = amount
    payment.attention_expected = expected
    payment.attention = detail.replace("\x00", "")[:200] or None
    log.warning("payment %s needs attention: %s %s", payment.reference, kind.value, detail)


def clear_flag(payment: Payment, kind: AttentionKind | None = None) -> None:
    """Lower the flag (only if it is of ``kind``, when given)."""
    if kind is None or payment.attention_kind == kind.value:
        payment.attention_kind = payment.attention = None
        payment.attention_amount = payment.attention_expected = None


# the effects of each edge: (machine, target) → what else happens in the same transaction

def _pay_order(change: Change) -> None:
    """A payment succeeded: its order is paid, or, if the order had moved on, flagged."""
    payment: Payment = change.obj
    if payment.gateway == CASH:
        return  # cash collected: record_collection paid the order itself, before this row
    order = db.session.get(Order, payment.order_id)
    received = payment.amount_received or payment.amount
    money = {"paid_at": utcnow(), "amount_received": Order.amount_received + received}
    paid = transition(order, O.PAID, actor=change.actor, why=f"payment {payment.reference} succeeded",
                      when=[Order.status == O.PENDING], values=money, payment=payment)
    if paid is not None:
        change.notes.append("order paid")
        return
    if order.status == O.EXPIRED:  # paid after its reservation ended (invoices outlive orders)
        held, low = reserve_again(order)
        if low:
            mail.enqueue_low_stock(low)
        if held:
            late = transition(order, O.PAID, actor=change.actor, when=[Order.status == O.EXPIRED],
                              why=f"payment {payment.reference} arrived after the order expired; "
                                  "its stock was held again", values=money, payment=payment)
            if late is not None:
                change.notes.append("order paid late, stock held again")
                counted = promos.take_again(order)
                if counted:
                    change.notes.append(counted)
                return
        flag(payment, AttentionKind.PAID_ON_CLOSED_ORDER,
             f"paid after the order expired and its stock is gone: refund {received} {payment.currency}",
             amount=received, expected=payment.amount)
        _receive(order, received)
        change.notes.append("flagged: paid after expiry, stock gone, refund due")
        return
    _receive(order, received)  # kept on the order, so that the merchant can refund it here
    flag(payment, AttentionKind.PAID_ON_CLOSED_ORDER,
         f"order already {order.status}: refund or accept",
         amount=received, expected=payment.amount)
    change.notes.append(f"flagged: order already {order.status}")


def _receive(order: Order, amount: int) -> None:
    """Money arrived on an order that will not be paid by it (already paid, cancelled, expired
    with its stock gone): it counts as received, so the refund can be recorded against it."""
    db.session.execute(update(Order).where(Order.id == order.id)
                       .values(amount_received=Order.amount_received + amount)
                       .execution_options(synchronize_session=False))
    db.session.refresh(order)


def _failure_email(change: Change) -> None:
    payment: Payment = change.obj
    if payment.order.status == O.PENDING:
        mail.enqueue(payment.order, "payment_failed", payment)


def _receipt(change: Change) -> None:
    mail.enqueue(change.obj, "receipt", change.context.get("payment"))  # in the winning transaction: one receipt


def _release_promo(change: Change) -> None:
    """An order that closes unpaid gives its promo code's use back (a paid one keeps it)."""
    if change.obj.paid_at is None and promos.release(change.obj):
        change.notes.append(f"code {change.obj.promo_code} use given back")


def _release_stock(change: Change) -> None:
    """Stock goes back: every line, or the lines the merchant chose (``restock=`` line ids)."""
    restock = change.context.get("restock")
    if release_stock(change.obj, restock):
        change.notes.append("stock released" if restock is None else
                            f"stock released for {len(restock)} of {len(change.obj.lines)} line(s)")


def _end_open_attempts(change: Change) -> None:
    """The order is closed: its attempts in flight end with the same status."""
    order: Order = change.obj
    target = PaymentStatus(change.target.value)
    for payment in list(db.session.scalars(
            db.select(Payment).where(Payment.order_id == order.id, Payment.status.in_(ACTIVE_PAYMENT)))):
        transition(payment, target, actor=change.actor, why=f"order {change.target.value}")


def _fulfilment_due(change: Change) -> None:
    """A paid order with a delivery method joins the "To fulfil" queue."""
    order: Order = change.obj
    if order.delivery_method is None:
        return  # nothing to deliver (and no refresh of the order mid-transaction)
    if transition(order, F.UNFULFILLED, actor=change.actor, why="order paid: to fulfil",
                  when=[Order.delivery_method.is_not(None)]):
        change.notes.append("to fulfil")


def _sms(kind: str | None = None) -> Effect:
    """The customer gets a text (notifications.sms: once per kind and order, off unless configured)."""
    def effect(change: Change) -> None:
        if sms.enqueue(change.obj, kind or change.target.value):
            change.notes.append("SMS written")
    effect.__name__ = f"_sms_{kind or 'target'}"
    return effect


def _merchant_paid_email(change: Change) -> None:
    if mail.enqueue_merchant(change.obj, "merchant_paid"):  # once: keyed by the order
        change.notes.append("merchant told")


def _fulfilment_email(change: Change) -> None:
    """Shipped or ready for pickup: the customer is told, once (keyed by the order)."""
    mail.enqueue(change.obj, change.target.value)


register_machine(FulfilmentStatus, Machine("fulfilment", Order, "fulfilment_status", FULFILMENT_TRANSITIONS))

EFFECTS.update({
    ("payment", P.SUCCEEDED.value): [_pay_order],
    ("payment", P.FAILED.value): [_failure_email],
    ("order", O.PAID.value): [_receipt, _fulfilment_due, _merchant_paid_email, _sms("paid")],
    ("fulfilment", F.SHIPPED.value): [_fulfilment_email, _sms()],
    ("fulfilment", F.READY_FOR_PICKUP.value): [_fulfilment_email, _sms()],
    ("fulfilment", F.DELIVERED.value): [_sms()],
    ("fulfilment", F.PICKED_UP.value): [_sms()],
    ("order", O.CANCELLED.value): [_release_stock, _release_promo, _end_open_attempts],
    ("order", O.EXPIRED.value): [_release_stock, _release_promo, _end_open_attempts],
})


# payment links (docs/payment-links.md): a link is one order, and follows it

class LinkStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


L = LinkStatus

LINK_TRANSITIONS: dict[LinkStatus, frozenset[LinkStatus]] = {
    L.OPEN: frozenset({L.PAID, L.EXPIRED, L.CANCELLED}),
    L.PAID: frozenset(),
    L.EXPIRED: frozenset({L.PAID}),  # its order paid late (stock held again)
    L.CANCELLED: frozenset(),
}

register_machine(LinkStatus, Machine("link", PaymentLink, "status", LINK_TRANSITIONS))


def _link_of(order: Order) -> PaymentLink | None:
    return db.session.scalar(db.select(PaymentLink).where(PaymentLink.order_id == order.id))


def _follow_order(target: LinkStatus) -> Effect:
    """The order behind a link moved: the link says the same."""
    def effect(change: Change) -> None:
        link = _link_of(change.obj)
        if link is not None and transition(link, target, actor=change.actor,
                                           why=f"its order {change.target.value}"):
            change.notes.append(f"payment link {target.value}")
    effect.__name__ = f"_link_{target.value}"
    return effect


def _cancel_link_order(change: Change) -> None:
    """The merchant cancelled the link: its pending order is cancelled too (stock back,
    attempts ended, by the order's own effects)."""
    link: PaymentLink = change.obj
    order = db.session.get(Order, link.order_id)
    if transition(order, O.CANCELLED, actor=change.actor, why="its payment link was cancelled"):
        change.notes.append("order cancelled")


for _target in (L.PAID, L.EXPIRED, L.CANCELLED):
    EFFECTS.setdefault(("order", _target.value), []).append(_follow_order(_target))
EFFECTS.setdefault(("link", L.CANCELLED.value), []).append(_cancel_link_order)


# refunds: money given back outside the gateways, recorded here (docs/after-sale.md)

#: How the money went back (``Refund.method``), in the customer's words (lazy: said in their language).
REFUND_METHODS = {
    "mobile_money": lazy_gettext("mobile money"),
    "cash": lazy_gettext("cash"),
    "bank_transfer": lazy_gettext("bank transfer"),
    "gateway": lazy_gettext("through the payment service"),
    "other": lazy_gettext("other"),
}

#: Orders whose money may be given back: paid, or closed with money on them (a refunded order too:
#: money that arrived on it afterwards).
REFUNDABLE = (O.PAID.value, O.CANCELLED.value, O.EXPIRED.value, O.REFUNDED.value)


def record_refund(order: Order, amount: int, *, actor: str, method: str, reference: str = "",
                  lines: str = "", note: str = "") -> Refund | None:
    """Record ``amount`` (minor units) given back on ``order``, in the caller's transaction.

    One conditional UPDATE adds it to ``amount_refunded`` only while the total stays within
    ``amount_received`` (and the CHECK refuses anything else), so two merchants refunding at
    once can never give back more than arrived; None when it would. The refund row, its event
    and the customer's refund note (e-mail and SMS) are written with it; the last of the money
    moves a paid order to ``refunded`` through ``transition``. A partial refund leaves it paid,
    ``Order.partly_refunded``.
    """
    if amount <= 0:
        return None
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(REFUNDABLE),
               Order.amount_refunded + amount <= Order.amount_received)
        .values(amount_refunded=Order.amount_refunded + amount, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(order)
        return None
    db.session.refresh(order)
    refund = Refund(order_id=order.id, amount=amount, currency=order.currency, method=method,
                    reference=reference.replace("\x00", "")[:120], lines=lines[:500],
                    note=note.replace("\x00", "")[:200], actor=actor[:254])
    db.session.add(refund)
    db.session.flush()
    left = order.amount_received - order.amount_refunded
    what = f"refund {amount} {order.currency} by {method}" + (f" ({refund.reference})" if refund.reference else "")
    db.session.add(PaymentEvent(order_id=order.id, actor=actor[:254], gateway="", kind="refund",
                                note=(f"{what}; {left} {order.currency} left refundable"
                                      + (f": {refund.note}" if refund.note else ""))[:300],
                                status_after=order.status))
    log.info("order %s: %s by %s", order.reference, what, actor)
    method_name = REFUND_METHODS[method] if method in REFUND_METHODS else method
    mail.enqueue(order, "refunded", key=f"refunded:{refund.id}", refund=refund, method_name=method_name)
    sms.enqueue(order, "refunded", key=f"refunded:{refund.id}", refund=refund)
    if left == 0 and order.status == O.PAID:
        transition(order, O.REFUNDED, actor=actor, why="refunded in full",
                   when=[Order.amount_refunded >= Order.amount_received])
    return refund


# cash on delivery / pay at pickup: the merchant records the cash (docs/cash-on-delivery.md)

def record_collection(order: Order, amount: int, *, actor: str) -> Change | None:
    """The merchant collected ``amount`` (minor units) on a pending cash order whose goods were
    handed over (shipped to a home, or ready at its pickup point), in the caller's transaction.

    Recorded like a payment: the order moves to paid (``amount_received`` += amount, ``paid_at``;
    receipt e-mail, merchant e-mail and SMS are the paid edge's effects) with a ``cash`` Payment
    row that succeeds, then its fulfilment to delivered / picked up. An attempt still open online
    is ended as cancelled first (a success arriving later on it is flagged, never dropped). Less
    than the total is flagged ``partial``, more ``overpaid``, like a gateway's short or long
    payment. The order's conditional move is the claim: two merchants recording at once record it
    once. None when nothing was recorded (not a pending cash order, goods not handed over yet).
    """
    if amount <= 0 or order.payment_method != CASH or order.status != O.PENDING:
        return None
    home = order.delivery_method == HOME
    handed, done = (F.SHIPPED, F.DELIVERED) if home else (F.READY_FOR_PICKUP, F.PICKED_UP)
    for attempt in list(db.session.scalars(
            db.select(Payment).where(Payment.order_id == order.id, Payment.status.in_(ACTIVE_PAYMENT)))):
        transition(attempt, P.CANCELLED, actor=actor, why="cash collected on delivery instead")
    payment = Payment(order_id=order.id, reference=new_reference("PAY", 12), gateway=CASH,
                      status=P.CREATED.value, amount=order.total, currency=order.currency,
                      amount_received=amount)
    db.session.add(payment)
    db.session.flush()
    what = f"{amount} {order.currency} collected in cash" + ("" if amount == order.total else
                                                             f" (total {order.total})")
    paid = transition(order, O.PAID, actor=actor, why=what, payment=payment,
                      when=[Order.status == O.PENDING, Order.payment_method == CASH,
                            Order.fulfilment_status == handed.value],
                      values={"paid_at": utcnow(), "amount_received": Order.amount_received + amount})
    if paid is None:
        return None  # the caller rolls back the cash row with it
    transition(payment, P.SUCCEEDED, actor=actor, why="cash collected by the merchant")
    transition(order, done, actor=actor, why="delivered and paid in cash" if home else "picked up and paid",
               when=[Order.fulfilment_status == handed.value])
    if amount < order.total:
        flag(payment, AttentionKind.PARTIAL, f"cash collected short: {amount} of {order.total} {order.currency}",
             amount=amount, expected=order.total)
    elif amount > order.total:
        flag(payment, AttentionKind.OVERPAID, f"more cash collected than the total: {amount} of {order.total}",
             amount=amount, expected=order.total)
    return paid
