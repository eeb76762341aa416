"""Payment attempts and the append-only log of what was said about them."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, sql_list, utcnow

if TYPE_CHECKING:
    from models.orders import Order

# The statuses the database accepts (CHECK constraints); orders.states owns their meaning
# and transitions, and a test checks that both lists agree.
PAYMENT_STATUSES = ("created", "pending", "succeeded", "failed", "cancelled", "expired", "error")
ATTENTION_KINDS = ("amount_mismatch", "amount_missing", "partial", "overpaid", "shortfall",
                   "paid_closed", "unknown_status", "other")
PAYMENT_STATUSES_SQL = sql_list(PAYMENT_STATUSES)
ATTENTION_KINDS_SQL = sql_list(ATTENTION_KINDS)


class Payment(db.Model):
    # The dashboard: per-gateway figures, and what needs attention.
    __table_args__ = (
        Index("ix_payment_gateway_created_at", "gateway", "created_at"),
        Index("ix_payment_attention_kind", "attention_kind"),
        Index("ix_payment_gateway_ref2", "gateway_ref2"),
        CheckConstraint(f"status IN ({PAYMENT_STATUSES_SQL})", name="status_known"),
        CheckConstraint(f"attention_kind IS NULL OR attention_kind IN ({ATTENTION_KINDS_SQL})",
                        name="attention_kind_known"),
        # At most one attempt in flight per order: a double-tap cannot open two invoices.
        Index("uq_payment_one_open_per_order", "order_id", unique=True,
              sqlite_where=text("status IN ('created', 'pending')"),
              postgresql_where=text("status IN ('created', 'pending')")),
    )
    ACTIVE = ("created", "pending")
    FINAL = ("succeeded", "failed", "cancelled", "expired", "error")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    gateway: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="created", index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    gateway_ref: Mapped[str | None] = mapped_column(String(512), index=True)
    #: A second gateway id where there is one (PayUnit's invoice ``ref``, …).
    gateway_ref2: Mapped[str | None] = mapped_column(String(128))
    #: What the gateway last reported as received (partial payments), minor units.
    amount_received: Mapped[int | None] = mapped_column(BigInteger)
    redirect_url: Mapped[str | None] = mapped_column(String(1024))
    #: Why a person must look at this payment (orders.states.AttentionKind), with the
    #: amounts involved (minor units, in ``currency``) and a short detail.
    attention_kind: Mapped[str | None] = mapped_column(String(24))
    attention_amount: Mapped[int | None] = mapped_column(BigInteger)
    attention_expected: Mapped[int | None] = mapped_column(BigInteger)
    attention: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship(back_populates="payments")
    events: Mapped[list[PaymentEvent]] = relationship(
        back_populates="payment", order_by="PaymentEvent.id"
    )


class PaymentEvent(db.Model):
    """Append-only log of everything said between us and a gateway about a payment,
    and of what the merchant did to an order (``order_id`` set, ``actor`` the admin)."""

    __table_args__ = (
        Index("ix_payment_event_kind_created_at", "kind", "created_at"),
        Index("ix_payment_event_rejection", "rejection"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(254))
    gateway: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text, default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    status_after: Mapped[str | None] = mapped_column(String(16))
    #: Why a callback was refused (orders.states.Rejection); None when it was accepted.
    rejection: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A callback's request headers that matter (JSON, secrets redacted).
    headers: Mapped[str | None] = mapped_column(Text)
    #: Who looked at a rejected callback in the dashboard, and when.
    reviewed_by: Mapped[str | None] = mapped_column(String(254))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    payment: Mapped[Payment | None] = relationship(back_populates="events")

    @property
    def payload_data(self):
        """The payload decoded from JSON, or the raw text."""
        try:
            return json.loads(self.payload)
        except (TypeError, ValueError):
            return self.payload

    @property
    def headers_data(self) -> dict:
        """The stored callback headers, or an empty dict."""
        try:
            return json.loads(self.headers or "{}")
        except ValueError:
            return {}
