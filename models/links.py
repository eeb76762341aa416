"""Payment links: an order the merchant made, reachable by a short code."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, sql_list, utcnow

if TYPE_CHECKING:
    from models.orders import Order

LINK_STATUSES = ("open", "paid", "expired", "cancelled")
LINK_STATUSES_SQL = sql_list(LINK_STATUSES)


class PaymentLink(db.Model):
    """A payment link (``/p/<code>``): one order made by the merchant for a customer met in a
    conversation. Its status follows its order (orders.states owns both)."""

    __tablename__ = "payment_link"
    __table_args__ = (
        CheckConstraint(f"status IN ({LINK_STATUSES_SQL})", name="status_known"),
        Index("ix_payment_link_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unguessable part of ``/p/<code>``.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: Shown to the customer on the link's page.
    note: Mapped[str] = mapped_column(String(500), default="")
    #: The delivery method chosen by the merchant (links.payment_links.delivery_choices), if any.
    delivery_method: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship()
