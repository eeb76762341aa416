"""The SMS outbox: each text written with the change it announces, sent once (notifications.sms)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class OutboxSms(db.Model):
    """A text message to a customer, written in the same transaction as the change it announces
    and sent afterwards by whoever claims it first; retried with a growing delay until it is."""

    __tablename__ = "outbox_sms"
    __table_args__ = (Index("ix_outbox_sms_status_next", "status", "next_attempt_at"),)
    STATUSES = ("pending", "sending", "sent", "failed")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # notifications.sms.KINDS
    #: One text per (kind, order) (or per refund): the database refuses a second.
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    to_number: Mapped[str] = mapped_column(String(32))  # E.164
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(String(480))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    #: The provider's id for the message (Africa's Talking ``messageId``).
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
