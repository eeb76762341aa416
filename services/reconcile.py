"""Reconciliation: find what callbacks missed, expire what was never paid.

One pass re-checks open payments with their gateway (oldest first, paced per
gateway), also keeps asking for a while about attempts whose order expired (a
late success is recorded and flagged, never dropped), then expires orders past
their reservation and releases their stock.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from extensions import db
from models import Payment, utcnow
from providers import REGISTRY
from services import mail, orders, pacing
from services.payments import refresh_status

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    unreachable: int = 0
    skipped: int = 0  # not asked: the gateway asked us to wait (Retry-After)
    expired_orders: int = 0
    emails_sent: int = 0
    by_gateway: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"checked {self.checked} payment(s) ({self.paid} now paid, {self.unreachable} "
                f"gateway error(s), {self.skipped} left for a gateway's Retry-After); "
                f"expired {self.expired_orders} order(s) and released their stock; "
                f"sent {self.emails_sent} e-mail(s)")


def _min_interval(gateway: str) -> float:
    provider = REGISTRY.get(gateway)
    return max(getattr(provider, "min_check_seconds", 0), current_app.config["RECONCILE_MIN_AGE_SECONDS"])


def payments_to_check(now: datetime) -> list[Payment]:
    """Open attempts, and attempts that expired recently, oldest first, not asked about too recently."""
    late_window = now - timedelta(hours=current_app.config["RECONCILE_LATE_HOURS"])
    candidates = db.session.scalars(
        select(Payment)
        .where(Payment.gateway_ref.is_not(None))
        .where(or_(Payment.status.in_(Payment.ACTIVE),
                   (Payment.status == "expired") & (Payment.updated_at >= late_window)))
        .order_by(Payment.created_at, Payment.id)
    )
    due = []
    for payment in candidates:
        last = payment.last_checked_at
        if last is None or (now - last).total_seconds() >= _min_interval(payment.gateway):
            due.append(payment)
    return due


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
        before = payment.status
        result = refresh_status(payment, force=True, note="reconciliation")
        last_call[payment.gateway] = time.monotonic()
        report.checked += 1
        report.by_gateway[payment.gateway] = report.by_gateway.get(payment.gateway, 0) + 1
        if result is None:
            report.unreachable += 1
        elif payment.status == "succeeded" and before != "succeeded":
            report.paid += 1


def reconcile_once(now: datetime | None = None) -> ReconcileReport:
    """One pass: re-check with the gateways, then expire what is still unpaid."""
    now = now or utcnow()
    report = ReconcileReport()
    recheck(now, report)
    for order in orders.due_for_expiry(now):
        if orders.expire_order(order, now):
            report.expired_orders += 1
    report.emails_sent = mail.deliver()
    db.session.remove()
    log.info("reconciliation: %s", report.summary())
    return report

