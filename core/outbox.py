"""What the shop's outboxes (``mail.outbox``'s e-mails, ``notifications.sms``'s texts) share.

An outbox row is written in the transaction of the change it tells about, with a unique key, and
sent later by whoever claims it: the web process after its response, a worker's job, or the
periodic pass. The rows have ``status`` (pending → sending → sent, or failed), ``attempts``,
``next_attempt_at`` and ``claimed_at``. A claim is one conditional UPDATE, so two senders never
send one row at once; a claim older than ``claim_minutes`` is taken as its sender's death and the
row may be claimed again (sent at least once in that one case). A failed send waits 2, 4, 8 …
minutes, at most an hour.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from extensions import db

#: At most this long between two tries of one row.
MAX_BACKOFF_MINUTES = 60


def due(model: Any, now: datetime, claim_minutes: float, limit: int = 50) -> list[int]:
    """Ids of rows to send now: pending and due, or claimed too long ago by a sender that died."""
    stale = now - timedelta(minutes=claim_minutes)
    return list(db.session.scalars(
        select(model.id)
        .where(or_((model.status == "pending") & (model.next_attempt_at <= now),
                   (model.status == "sending") & (model.claimed_at <= stale)))
        .order_by(model.id).limit(limit)
    ))


def claim(model: Any, item_id: int, now: datetime, claim_minutes: float) -> bool:
    """Take one row for sending (committed at once, so other senders see it); False when another
    sender has it or it is done."""
    stale = now - timedelta(minutes=claim_minutes)
    result = db.session.execute(
        update(model)
        .where(model.id == item_id,
               or_(model.status == "pending", (model.status == "sending") & (model.claimed_at <= stale)))
        .values(status="sending", claimed_at=now, attempts=model.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def retry_at(attempts: int, now: datetime) -> datetime:
    """When a row that failed its ``attempts``-th send is tried again."""
    return now + timedelta(minutes=min(2 ** attempts, MAX_BACKOFF_MINUTES))
