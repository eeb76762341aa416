"""Confirmations that must wait: a gateway's word that arrived while we may not ask yet.

A callback that lands inside a gateway's pacing window (LigdiCash: 3 s between two
``confirm`` calls) or while the gateway asked us to wait (429 with ``Retry-After``) is not
dropped: its confirmation is scheduled for the moment the window opens, so a few forged
callbacks sent just before the genuine one cannot hold a paid order back.

With a job queue (``core.jobs``, Redis configured) the confirmation is a delayed job run by the
worker instead (``payments.attempts._confirm_later``). Without one, or with Redis away, the
schedule lives in this process and is bounded: one timer
per payment (a second callback for the same payment joins the first), at most
``MAX_PENDING`` timers per process, none longer than ``MAX_DELAY_SECONDS``. A process that
dies loses its timers; reconciliation still finds those payments.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app

from extensions import db

log = logging.getLogger(__name__)

#: The most confirmations one process keeps waiting at once; more are left to reconciliation.
MAX_PENDING = 500
#: The longest a confirmation is held back; a gateway asking for more is left to reconciliation.
MAX_DELAY_SECONDS = 60.0

_pending: dict[int, threading.Timer] = {}
_lock = threading.Lock()


def later(payment_id: int, delay: float, job: Callable[[int], None]) -> bool:
    """Run ``job(payment_id)`` in an app context ``delay`` seconds from now, unless one is
    already waiting for that payment. False when it cannot be scheduled (too far, too many)."""
    if delay > MAX_DELAY_SECONDS:
        return False
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if payment_id in _pending:
            return True
        if len(_pending) >= MAX_PENDING:
            log.warning("payment #%s: %d confirmations already waiting; left to reconciliation",
                        payment_id, len(_pending))
            return False
        timer = threading.Timer(max(delay, 0.0), _run, args=(app, payment_id, job))
        timer.daemon = True
        _pending[payment_id] = timer
    timer.start()
    return True


def _run(app: Flask, payment_id: int, job: Callable[[int], None]) -> None:
    with _lock:
        _pending.pop(payment_id, None)
    with app.app_context():
        try:
            job(payment_id)
        except Exception:  # a timer thread has nobody to tell: log it, reconciliation follows up
            db.session.rollback()
            log.exception("payment #%s: deferred confirmation failed", payment_id)
        finally:
            db.session.remove()


def waiting() -> int:
    """How many confirmations this process holds for later."""
    with _lock:
        return len(_pending)


def cancel_all() -> None:
    """Drop every waiting confirmation (tests, and a process shutting down)."""
    with _lock:
        timers = list(_pending.values())
        _pending.clear()
    for timer in timers:
        timer.cancel()
