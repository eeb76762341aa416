"""The e-mail outbox: each e-mail written with the change it announces, sent once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class OutboxEmail(db.Model):
    """An e-mail to a customer (or the merchant), written in the same transaction as the change
    it announces and sent afterwards by whoever claims it first: each is sent once, retried
    until it is. The merchant's daily summary concerns no order (``order_id`` None)."""

    __table_args__ = (Index("ix_outbox_email_status_next", "status", "next_attempt_at"),)
    STATUSES = ("pending", "sending", "sent")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # mail.outbox.KINDS
    #: One e-mail per (kind, order) or (kind, payment): the database refuses a second.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
