"""Fulfilment: what happens to a paid order's goods, from the "To fulfil" queue to the
customer's hands, and the merchant's daily summary of what waits.

Fulfilment statuses are orders.states entries: every move here is a ``transition``; the
delivery method (home or pickup) decides which moves are offered. See docs/delivery.md.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, func, or_, select

from delivery.options import CASH, HOME, PICKUP
from extensions import db
from mail import outbox as mail
from models import Order, Refund, utcnow
from orders import states
from orders.states import FulfilmentStatus, OrderStatus

#: Fulfilment statuses that still wait for the merchant (the "To fulfil" queue).
WAITING = (FulfilmentStatus.UNFULFILLED.value, FulfilmentStatus.PREPARING.value)
#: A cash order waits until its cash is collected: its goods may be on their way already.
CASH_WAITING = (*WAITING, FulfilmentStatus.SHIPPED.value, FulfilmentStatus.READY_FOR_PICKUP.value)


def _cash_due():
    return and_(Order.status == OrderStatus.PENDING, Order.payment_method == CASH)


def to_fulfil(limit: int = 200) -> list[Order]:
    """Paid orders whose goods have not left yet (unfulfilled, then preparing), and cash orders
    whose cash is still to collect (docs/cash-on-delivery.md), oldest first (paid, else placed)."""
    return list(db.session.scalars(
        select(Order).where(or_(and_(Order.status == OrderStatus.PAID, Order.fulfilment_status.in_(WAITING)),
                                and_(_cash_due(), Order.fulfilment_status.in_(CASH_WAITING))))
        .order_by(func.coalesce(Order.paid_at, Order.created_at), Order.id).limit(limit)))


#: Dashboard action → (target, condition on the order's method).
ACTIONS = {
    "preparing": (FulfilmentStatus.PREPARING, None),
    "shipped": (FulfilmentStatus.SHIPPED, HOME),
    "ready_for_pickup": (FulfilmentStatus.READY_FOR_PICKUP, PICKUP),
    "delivered": (FulfilmentStatus.DELIVERED, HOME),
    "picked_up": (FulfilmentStatus.PICKED_UP, PICKUP),
}


def next_actions(order: Order) -> list[str]:
    """The fulfilment moves the dashboard offers for ``order`` now (forward only). A cash order
    moves while its cash is due, up to the handover: delivered / picked up is recording the
    cash (states.record_collection) or the refusal."""
    cash = order.cash_due
    if order.status != OrderStatus.PAID and not cash:
        return []
    return [name for name, (target, method) in ACTIONS.items()
            if states.allowed(order.fulfilment_status, target)
            and (method is None or method == order.delivery_method)
            and not (cash and target in HANDED_OVER)]


#: The last moves, which a cash order makes only with its cash (states.record_collection).
HANDED_OVER = (FulfilmentStatus.DELIVERED, FulfilmentStatus.PICKED_UP)


def advance(order: Order, action: str, actor: str, courier: str = "", tracking: str = "") -> bool:
    """Move ``order``'s fulfilment one step (who did it is in the order log); caller commits.

    False when the move is not allowed from where the order is (or for its delivery method)."""
    if action not in ACTIONS:
        return False
    target, method = ACTIONS[action]
    paid = Order.status == OrderStatus.PAID
    when = [paid if target in HANDED_OVER else or_(paid, _cash_due())]
    if method is not None:
        when.append(Order.delivery_method == method)
    values = {}
    why = action.replace("_", " ")
    if target == FulfilmentStatus.SHIPPED:
        values = {"courier": courier.strip()[:80], "tracking_note": tracking.strip()[:200]}
        why += "".join(f", {k}: {v}" for k, v in (("courier", values["courier"]),
                                                   ("tracking", values["tracking_note"])) if v)
    return states.transition(order, target, actor=actor, why=why[:200], when=when, values=values) is not None


# the merchant's daily summary (sent by the reconcile worker)

def daily_summary(now: datetime | None = None) -> int:
    """Write today's summary of what waits to be fulfilled and of yesterday's refunds, once per
    day from MERCHANT_SUMMARY_HOUR (UTC; the outbox's key holds the date); nothing when nothing
    waits and nothing was refunded, or no MERCHANT_EMAIL is set. Returns how many e-mails were
    written."""
    now = now or utcnow()
    if not mail.merchant_addresses() or now.hour < current_app.config["MERCHANT_SUMMARY_HOUR"]:
        return 0
    day: date = now.date()
    waiting = to_fulfil()
    refunds = refunds_on(day - timedelta(days=1))
    if not waiting and not refunds:
        return 0
    written = mail.enqueue_summary(day, waiting, refunds)
    db.session.commit()
    return len(written)


def refunds_on(day: date) -> list[Refund]:
    """The refunds recorded on ``day`` (UTC), oldest first."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return list(db.session.scalars(
        select(Refund).where(Refund.created_at >= start, Refund.created_at < start + timedelta(days=1))
        .order_by(Refund.id)))
