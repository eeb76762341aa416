"""The customer's history of an order, in plain words: placed, paid, preparing, shipped or ready
for pickup, delivered or collected, refunded (or cancelled, expired), each with when it
happened, read from the order and its transition events (the state owner's log). What is still
to come is the order page's delivery progress (checkout/_delivery_status.html)."""
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
    """One line of the history: ``key`` names it (the template words it), and when it
    happened when known."""

    key: str
    at: datetime | None = None


def timeline(order: Order) -> list[Step]:
    """What happened to ``order`` so far, oldest first."""
    moved = _first_moves(order)
    steps = [Step("placed", order.created_at)]
    if order.paid_at is not None:
        steps.append(Step("paid", order.paid_at))
    if order.delivery_method is not None:
        reached = PROGRESS.get(FulfilmentStatus(order.fulfilment_status), 0)
        pickup = order.delivery_method == PICKUP
        for level, status in ((1, F.PREPARING), (2, F.READY_FOR_PICKUP if pickup else F.SHIPPED),
                              (3, F.PICKED_UP if pickup else F.DELIVERED)):
            if reached >= level:
                steps.append(Step(status.value, moved.get(status.value)))
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        steps.append(Step(order.status, moved.get(order.status) or order.updated_at))
    if order.amount_refunded:
        last = max((r.created_at for r in order.refunds), default=None)
        steps.append(Step("refunded" if order.amount_refunded >= order.amount_received else "partly_refunded",
                          last))
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
