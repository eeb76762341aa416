"""How often a gateway may be asked about one payment, and when a gateway asked us to wait.

LigdiCash asks for at least 3 s between two ``confirm`` calls for one invoice. Every path
that asks a gateway (callback, return landing, order page, reconciliation, dashboard
re-check) goes through ``payments.attempts.refresh_status``, which claims the right to ask
here with one conditional UPDATE: of two processes racing, only one may ask.

A gateway that answered 429 (or 5xx) with ``Retry-After`` is rested until then; the
reconciliation pass skips it (per process: the worker's loop keeps the memory).
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, or_, select, update

from extensions import db
from models import Payment, PaymentEvent, utcnow
from providers import REGISTRY

#: A customer back from the gateway may wait this long for its pacing window (LigdiCash: 3 s)
#: so that the order page they land on already knows.
RETURN_WAIT_SECONDS = 3.5


class Paced(Exception):
    """Someone asked the gateway about this payment less than its minimum interval ago."""


def min_interval(gateway: str) -> float:
    """The least seconds between two status checks of one payment at ``gateway``."""
    provider = REGISTRY.get(gateway)
    return float(getattr(provider, "min_check_seconds", 0) or 0)


def claim_status_check(payment: Payment, interval: float) -> bool:
    """Record that we ask now, unless someone asked less than ``interval`` seconds ago.

    One conditional UPDATE, committed: True for the one caller that may ask.
    """
    now = utcnow()
    stmt = update(Payment).where(Payment.id == payment.id)
    if interval > 0:
        stmt = stmt.where(or_(Payment.last_checked_at.is_(None),
                              Payment.last_checked_at <= now - timedelta(seconds=interval)))
    result = db.session.execute(
        stmt.values(last_checked_at=now).execution_options(synchronize_session=False))
    db.session.commit()  # the claim is visible to every other process before we ask
    return result.rowcount == 1


def claim_or_wait(payment: Payment, interval: float, wait: float) -> bool:
    """``claim_status_check``, and when someone asked less than ``interval`` seconds ago and the
    window closes within ``wait`` seconds, wait for it and claim once more (a customer coming back
    from the gateway gets the answer now rather than at the page's next poll)."""
    if claim_status_check(payment, interval):
        return True
    if not wait or interval > wait:
        return False
    db.session.refresh(payment)
    last = payment.last_checked_at
    if last is None:
        return claim_status_check(payment, interval)
    remaining = interval - (utcnow() - last).total_seconds()
    if remaining > wait:
        return False
    time.sleep(max(remaining, 0) + 0.05)
    return claim_status_check(payment, interval)


def latest_event_id(payment: Payment) -> int:
    """The id of the last event logged for ``payment`` (0: none)."""
    return db.session.scalar(select(func.max(PaymentEvent.id)).where(PaymentEvent.payment_id == payment.id)) or 0


def await_other_answer(payment: Payment, after_event: int, seconds: float) -> bool:
    """Someone else holds the right to ask: wait up to ``seconds`` for their answer to be logged
    (an event newer than ``after_event``), so that a customer waiting on it sees it. True if it came."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()  # a fresh snapshot each time round
        if latest_event_id(payment) > after_event:
            db.session.refresh(payment)
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def window_left(payment: Payment, interval: float) -> float:
    """Seconds until ``payment`` may be asked again (its last check as stored now)."""
    db.session.refresh(payment)
    last = payment.last_checked_at
    if last is None or interval <= 0:
        return 0.0
    return max(interval - (utcnow() - last).total_seconds(), 0.0)


# --- Retry-After -------------------------------------------------------------------------

_resting: dict[str, float] = {}  # gateway → time.monotonic() until which we leave it alone
_lock = threading.Lock()


def rest(gateway: str, seconds: float | None) -> None:
    """Remember that ``gateway`` asked us to wait ``seconds`` (its Retry-After)."""
    if not seconds or seconds <= 0:
        return
    with _lock:
        _resting[gateway] = max(_resting.get(gateway, 0), time.monotonic() + seconds)


def resting(gateway: str) -> float:
    """Seconds left before ``gateway`` may be asked again (0: ask away)."""
    with _lock:
        left = _resting.get(gateway, 0) - time.monotonic()
        if left <= 0:
            _resting.pop(gateway, None)
    return max(left, 0.0)


def forget_rests() -> None:
    """Forget every Retry-After (tests, and a fresh worker)."""
    with _lock:
        _resting.clear()
