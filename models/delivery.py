"""Delivery zones (home delivery at a fee) and pickup points, per market."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class DeliveryZone(db.Model):
    """Home delivery to an area of one market, at a fee in that market's currency."""

    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_nonnegative"),
        CheckConstraint("free_from IS NULL OR free_from > 0", name="free_from_positive"),
        CheckConstraint("delay_min_days >= 0 AND delay_max_days >= delay_min_days", name="delay_ordered"),
        Index("ix_delivery_zone_currency_active", "currency", "active"),
        CheckConstraint("cash_max IS NULL OR cash_max > 0", name="cash_max_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(120))
    fee: Mapped[int] = mapped_column(BigInteger)  # minor units
    #: Items total (minor units) from which delivery is free; None: never free.
    free_from: Mapped[int | None] = mapped_column(BigInteger)
    delay_min_days: Mapped[int] = mapped_column(Integer, default=1)
    delay_max_days: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Cash on delivery / pay at pickup offered here (docs/cash-on-delivery.md), up to an order
    #: total of ``cash_max`` (minor units of ``currency``; None: no limit).
    cash_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cash_max: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PickupPoint(db.Model):
    """A place of one market where customers collect their order, free of charge."""

    __table_args__ = (
        Index("ix_pickup_point_currency_active", "currency", "active"),
        CheckConstraint("cash_max IS NULL OR cash_max > 0", name="cash_max_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Cash on delivery / pay at pickup offered here (docs/cash-on-delivery.md), up to an order
    #: total of ``cash_max`` (minor units of ``currency``; None: no limit).
    cash_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cash_max: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
