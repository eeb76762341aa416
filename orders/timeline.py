"""The customer's view of where an order is: placed, paid, preparing, shipped or ready for
pickup, delivered or collected, refunded (or cancelled, expired), each with when it happened,
read from the order and its transition events (the state owner's log)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from delivery.options import PICKUP
from extensions import db
from models import Order, PaymentEvent
from orders.states import FulfilmentStatus, OrderStatus

F = FulfilmentStatus
#: How far each fulfilment status has gone (the order the steps are shown in).
PROGRESS = {F.NOT_APPLICABLE: 0, F.UNFULFILLED: 0, F.PREPARING: 1, F.SHIPPED: 2, F.READY_FOR_PICKUP: 2,
            F.DELIVERED: 3, F.PICKED_UP: 3}


@dataclass(frozen=True)
class Step:
    """One line of the timeline: ``key`` names it (the template words it), ``done`` or still
    to come, and when it happened when known."""

    key: str
    done: bool
    at: datetime | None = None


def timeline(order: Order) -> list[Step]:
    """The steps of ``order`` so far and, while it goes on, the ones still to come."""
    moved = _first_moves(order)
    steps = [Step("placed", True, order.created_at)]
    paid = order.paid_at is not None
    closed = order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    if paid or not closed:
        steps.append(Step("paid", paid, order.paid_at))
    if order.delivery_method is not None and not (closed and not paid):
        reached = PROGRESS.get(FulfilmentStatus(order.fulfilment_status), 0)
        pickup = order.delivery_method == PICKUP
        for level, status in ((1, F.PREPARING), (2, F.READY_FOR_PICKUP if pickup else F.SHIPPED),
                              (3, F.PICKED_UP if pickup else F.DELIVERED)):
            if reached >= level or not closed:
                steps.append(Step(status.value, reached >= level, moved.get(status.value)))
    if closed:
        steps.append(Step(order.status, True, moved.get(order.status) or order.updated_at))
    if order.amount_refunded:
        last = max((r.created_at for r in order.refunds), default=None)
        steps.append(Step("refunded" if order.amount_refunded >= order.amount_received else "partly_refunded",
                          True, last))
    return steps


def _first_moves(order: Order) -> dict[str, datetime]:
    """When the order first reached each status (order and fulfilment), from its events."""
    rows = db.session.execute(
        select(PaymentEvent.status_after, PaymentEvent.created_at)
        .where(PaymentEvent.order_id == order.id, PaymentEvent.kind == "transition",
               PaymentEvent.payment_id.is_(None))
        .order_by(PaymentEvent.created_at, PaymentEvent.id))
    first: dict[str, datetime] = {}
    for status, at in rows:
        if status:
            first.setdefault(status, at)
    return first
