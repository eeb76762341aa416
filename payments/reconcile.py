"""Reconciliation: find what callbacks missed, expire what was never paid.

One pass ends attempts left ``created`` by a request that died, re-checks open
payments with their gateway (oldest first, paced per gateway), also keeps asking
for a while about attempts whose order expired (a late success is recorded and
flagged, never dropped), then expires orders past their reservation and releases
their stock. Each payment and order is handled on its own: one that raises is
logged with its reference, rolled back, counted, and the pass goes on.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import or_, select

from core import jobs
from extensions import db
from models import Order, Payment, utcnow
from orders import fulfilment
from orders import lifecycle as orders
from payments import pacing
from payments.attempts import end_stale_attempts, open_deadline, refresh_status
from providers import REGISTRY

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    unreachable: int = 0
    skipped: int = 0  # not asked: the gateway asked us to wait (Retry-After)
    expired_orders: int = 0
    stale_ended: int = 0
    errors: int = 0
    emails_sent: int = 0
    texts_sent: int = 0
    photos_prepared: int = 0
    summaries: int = 0
    by_gateway: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"checked {self.checked} payment(s) ({self.paid} now paid, {self.unreachable} "
                f"gateway error(s), {self.skipped} left for a gateway's Retry-After); ended "
                f"{self.stale_ended} attempt(s) never opened; expired {self.expired_orders} order(s) "
                f"and released their stock; sent {self.emails_sent} e-mail(s) and {self.texts_sent} SMS; prepared "
                f"{self.photos_prepared} photo(s) whose job was lost; {self.errors} unexpected error(s)")


def _min_interval(gateway: str) -> float:
    return max(pacing.min_interval(gateway), current_app.config["RECONCILE_MIN_AGE_SECONDS"])


def payments_to_check(now: datetime) -> list[Payment]:
    """Open attempts, and attempts that expired or were cancelled recently (money may still arrive on
    them: it is recorded and flagged, never lost), oldest first, not asked about too recently."""
    late_window = now - timedelta(hours=current_app.config["RECONCILE_LATE_HOURS"])
    candidates = db.session.scalars(
        select(Payment)
        .where(Payment.gateway_ref.is_not(None))
        .where(or_(Payment.status.in_(Payment.ACTIVE),
                   Payment.status.in_(("expired", "cancelled")) & (Payment.updated_at >= late_window)))
        .order_by(Payment.created_at, Payment.id)
    )
    due = []
    for payment in candidates:
        last = payment.last_checked_at
        if last is None or (now - last).total_seconds() >= _min_interval(payment.gateway):
            due.append(payment)
    return due


def _isolated(report: ReconcileReport, what: str, step: Callable[[], None]) -> None:
    """Run one item's step; an unexpected error is logged with the item and the pass goes on."""
    try:
        step()
    except Exception:
        db.session.rollback()
        report.errors += 1
        log.exception("reconciliation: %s failed; continuing with the next", what)


def recheck(now: datetime, report: ReconcileReport) -> None:
    """Ask each gateway about each due payment, pausing between calls to one gateway."""
    pause = current_app.config["RECONCILE_GATEWAY_PAUSE_SECONDS"]
    last_call: dict[str, float] = {}
    for payment in payments_to_check(now):
        if pacing.resting(payment.gateway):  # issue 20: the gateway's Retry-After has not passed
            report.skipped += 1
            continue
        wait = last_call.get(payment.gateway, 0) + pause - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _isolated(report, f"payment {payment.reference}", partial(_recheck_one, payment, report))
        last_call[payment.gateway] = time.monotonic()


def _recheck_one(payment: Payment, report: ReconcileReport) -> None:
    before = payment.status
    report.checked += 1
    report.by_gateway[payment.gateway] = report.by_gateway.get(payment.gateway, 0) + 1
    result = refresh_status(payment, force=True, note="reconciliation")
    if result is None:
        report.unreachable += 1
    elif payment.status == "succeeded" and before != "succeeded":
        report.paid += 1


def end_stale(now: datetime, report: ReconcileReport) -> None:
    """Attempts left ``created`` by a request that died are settled (taken up or ended), so
    the customer can pay: see payments.attempts.end_stale_attempts."""
    cutoff = now - timedelta(seconds=min(open_deadline(gateway) for gateway in REGISTRY))
    order_ids = set(db.session.scalars(select(Payment.order_id).where(
        Payment.status == "created", Payment.gateway_ref.is_(None), Payment.created_at <= cutoff)))
    for order_id in sorted(order_ids):
        def step(order_id: int = order_id) -> None:
            order = db.session.get(Order, order_id)
            if order is not None:
                report.stale_ended += end_stale_attempts(order)
        _isolated(report, f"order #{order_id}", step)


def expire(now: datetime, report: ReconcileReport) -> None:
    """Expire what is still unpaid past its reservation."""
    for order in orders.due_for_expiry(now):
        def step(order: Order = order) -> None:
            if orders.expire_order(order, now):
                report.expired_orders += 1
        _isolated(report, f"order {order.reference}", step)


def summarise(now: datetime, report: ReconcileReport) -> None:
    """The merchant's daily summary of what waits to be fulfilled (once a day: the outbox's
    dedupe key holds the date, so later passes of the same day write nothing)."""
    report.summaries += fulfilment.daily_summary(now)


#: The outboxes a pass drains (core.jobs.OUTBOXES), the report's count of each, the step's name.
DRAINED = (("email", "emails_sent", "sending e-mails"), ("sms", "texts_sent", "sending texts"),
           ("photos", "photos_prepared", "preparing photos"))


def _drain(report: ReconcileReport, outbox: str, counted: str) -> None:
    setattr(report, counted, jobs.drain(outbox))


def reconcile_once(now: datetime | None = None) -> ReconcileReport:
    """One pass: end dead attempts, re-check with the gateways, expire what is still unpaid,
    send waiting e-mails. No single item can stop the pass."""
    now = now or utcnow()
    report = ReconcileReport()
    for step in (end_stale, recheck, expire, summarise):
        _isolated(report, step.__name__, partial(step, now, report))
    for outbox, counted, what in DRAINED:  # each on its own: one that fails stops no other
        _isolated(report, what, partial(_drain, report, outbox, counted))
    db.session.remove()
    log.info("reconciliation: %s", report.summary())
    return report


def scheduled_pass() -> str:
    """The worker's periodic job (``flask worker`` schedules it every RECONCILE_INTERVAL_SECONDS):
    one pass, its summary as the job's result."""
    return reconcile_once().summary()
