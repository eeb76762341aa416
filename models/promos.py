"""Promo codes: a percentage, a fixed amount per market, or free delivery; when they may be used,
how often, by whom and on what; each order that uses one holds one redemption."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, sql_list, utcnow
from models.catalog import Category, Product

PROMO_KINDS = ("percent", "fixed", "free_delivery")

promo_product = Table(
    "promo_product", db.metadata,
    Column("promo_id", ForeignKey("promo_code.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
)
promo_category = Table(
    "promo_category", db.metadata,
    Column("promo_id", ForeignKey("promo_code.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
)


class PromoCode(db.Model):
    __tablename__ = "promo_code"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_list(PROMO_KINDS)})", name="kind_known"),
        CheckConstraint("percent IS NULL OR (percent >= 1 AND percent <= 100)", name="percent_range"),
        CheckConstraint("uses >= 0", name="uses_nonnegative"),
        # A use is counted (shop.promos.redeem) with a conditional UPDATE; the database says no too.
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the customer types, stored in capitals (matched in any case).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: For a percentage code: 1 to 100 (% off the eligible lines).
    percent: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Orders that may use it in all (None: no limit), and per customer phone.
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_phone: Mapped[int | None] = mapped_column(Integer)
    #: Orders holding a use: placed and unpaid (given back if they close unpaid) or paid.
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    markets: Mapped[list[PromoMarket]] = relationship(back_populates="promo", cascade="all, delete-orphan")
    products: Mapped[list[Product]] = relationship(secondary=promo_product)
    categories: Mapped[list[Category]] = relationship(secondary=promo_category)

    def market(self, currency: str) -> PromoMarket | None:
        return next((m for m in self.markets if m.currency == currency), None)


class PromoMarket(db.Model):
    """A code's figures in one market: the fixed amount off (fixed codes) and the minimum subtotal."""

    __tablename__ = "promo_market"
    __table_args__ = (
        UniqueConstraint("promo_id", "currency"),
        CheckConstraint("amount_off IS NULL OR amount_off > 0", name="amount_off_positive"),
        CheckConstraint("min_subtotal >= 0", name="min_subtotal_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promo_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_off: Mapped[int | None] = mapped_column(BigInteger)  # minor units
    min_subtotal: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # minor units

    promo: Mapped[PromoCode] = relationship(back_populates="markets")


class PromoRedemption(db.Model):
    """One order's use of a code (one per order); ``released`` when the order closed unpaid."""

    __tablename__ = "promo_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    promo_id: Mapped[int] = mapped_column(ForeignKey("promo_code.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    released: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
