"""Orders and their lines: what was sold, at what price, to whom, delivered how."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.search import order_search_text
from extensions import db
from models.base import UTCDateTime, sql_list, utcnow
from models.payments import Payment

if TYPE_CHECKING:
    from models.catalog import Product
    from models.delivery import DeliveryZone, PickupPoint

# The statuses the database accepts (CHECK constraints); orders.states owns their meaning
# and transitions, and a test checks that both lists agree.
ORDER_STATUSES = ("pending", "paid", "cancelled", "expired", "refunded")
ORDER_STATUSES_SQL = sql_list(ORDER_STATUSES)
FULFILMENT_STATUSES = ("not_applicable", "unfulfilled", "preparing", "shipped", "ready_for_pickup",
                       "delivered", "picked_up")
DELIVERY_METHODS = ("home", "pickup")
FULFILMENT_STATUSES_SQL = sql_list(FULFILMENT_STATUSES)
DELIVERY_METHODS_SQL = sql_list(DELIVERY_METHODS)
#: How the customer chose to pay at checkout: online at a gateway, or cash on delivery / at pickup.
PAYMENT_METHODS = ("gateway", "cash")
PAYMENT_METHODS_SQL = sql_list(PAYMENT_METHODS)


class Order(db.Model):
    __tablename__ = "orders"
    # The dashboard's search (exact e-mail, any case; phone) and revenue-by-day queries.
    __table_args__ = (
        Index("ix_orders_customer_phone", "customer_phone"),
        Index("ix_orders_paid_at", "paid_at"),
        Index("ix_orders_currency_created_at", "currency", "created_at"),
        CheckConstraint(f"status IN ({ORDER_STATUSES_SQL})", name="status_known"),
        CheckConstraint(f"fulfilment_status IN ({FULFILMENT_STATUSES_SQL})", name="fulfilment_status_known"),
        CheckConstraint(f"delivery_method IS NULL OR delivery_method IN ({DELIVERY_METHODS_SQL})",
                        name="delivery_method_known"),
        CheckConstraint("delivery_fee >= 0", name="delivery_fee_nonnegative"),
        CheckConstraint("discount >= 0", name="discount_nonnegative"),
        Index("ix_orders_fulfilment_paid_at", "fulfilment_status", "paid_at"),
        # Refunds (orders.states.record_refund): never below zero, never more than was received.
        CheckConstraint("amount_received >= 0", name="amount_received_nonnegative"),
        CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount_received",
                        name="refund_within_received"),
        CheckConstraint(f"payment_method IN ({PAYMENT_METHODS_SQL})", name="payment_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    checkout_key: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    customer_name: Mapped[str] = mapped_column(String(120))
    customer_email: Mapped[str] = mapped_column(String(254))
    customer_phone: Mapped[str] = mapped_column(String(32))
    #: The customer's language (fr, en, rw), passed to gateways that localise their page.
    language: Mapped[str] = mapped_column(String(8), default="fr")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    stock_released: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Delivery (docs/delivery.md): what was chosen at checkout, copied so that editing or
    # deactivating a zone later does not change the order. ``subtotal`` is the items,
    # ``total`` = subtotal + delivery_fee. No method: an order without delivery.
    delivery_method: Mapped[str | None] = mapped_column(String(10))
    delivery_zone_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_zone.id"), index=True)
    pickup_point_id: Mapped[int | None] = mapped_column(ForeignKey("pickup_point.id"), index=True)
    delivery_label: Mapped[str] = mapped_column(String(200), default="")
    delivery_city: Mapped[str] = mapped_column(String(80), default="")
    delivery_address: Mapped[str] = mapped_column(String(300), default="")
    delivery_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    #: orders.states.FulfilmentStatus; moved only by states.transition.
    fulfilment_status: Mapped[str] = mapped_column(String(20), default="not_applicable")
    courier: Mapped[str] = mapped_column(String(80), default="")
    tracking_note: Mapped[str] = mapped_column(String(200), default="")
    #: The customer's name and e-mail folded (core.search): the dashboard's accent-blind search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: What the gateways paid on this order and what the merchant gave back (minor units, in
    #: ``currency``): set by orders.states (paid, money on a closed order, refunds) only.
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: A promo code's saving (minor units; shop.promos): total = subtotal + delivery_fee - discount.
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    promo_code: Mapped[str] = mapped_column(String(32), default="", server_default="")
    #: Why the merchant cancelled it (shown to the customer), empty otherwise.
    cancel_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: What the customer chose at checkout (PAYMENT_METHODS): ``cash`` orders are placed without a
    #: gateway, do not expire and wait for the merchant to record the cash (docs/cash-on-delivery.md).
    payment_method: Mapped[str] = mapped_column(String(10), default="gateway", server_default="gateway")

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", order_by="Payment.id"
    )
    delivery_zone: Mapped[DeliveryZone | None] = relationship()
    pickup_point: Mapped[PickupPoint | None] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")

    @property
    def refundable(self) -> int:
        """What may still be refunded (minor units)."""
        return max(self.amount_received - self.amount_refunded, 0)

    @property
    def partly_refunded(self) -> bool:
        """Some, not all, of the money received was given back."""
        return 0 < self.amount_refunded < self.amount_received

    @property
    def cash_due(self) -> bool:
        """A cash order still waiting for the merchant to collect its total."""
        return self.payment_method == "cash" and self.status == "pending"

    @property
    def active_payment(self) -> Payment | None:
        """The attempt still in flight (created or pending), if any."""
        return next((p for p in reversed(self.payments) if p.status in Payment.ACTIVE), None)

    @property
    def can_retry(self) -> bool:
        """True when the customer may start a new payment attempt."""
        return self.status == "pending" and self.active_payment is None


@event.listens_for(Order, "before_insert")
@event.listens_for(Order, "before_update")
def _fold_search_text(mapper, connection, order: Order) -> None:
    """Keep the folded search column in step with the customer's name and e-mail."""
    order.search_text = order_search_text(order)


# Searching by e-mail in any case uses this index (declared here, it needs the column).
Index("ix_orders_email_lower", func.lower(Order.customer_email))
# The dashboard's per-currency totals of a filtered set read this index alone (index-only scan).
Index("ix_orders_totals", Order.currency, Order.status, Order.created_at, Order.total)


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    #: None for a free line of a payment link (a description and an amount, no product).
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    #: The variant sold (its stock was held); None for a free line.
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id"))
    #: The product's name, and the variant's option values ("M / Rouge", "" for none), as sold.
    name: Mapped[str] = mapped_column(String(200))
    variant_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()

    @property
    def full_name(self) -> str:
        """The product and its variant, as the customer, the packing slip and gateways read it:
        "T-shirt (M / Rouge)"."""
        return f"{self.name} ({self.variant_name})" if self.variant_name else self.name

REFUND_METHODS = ("mobile_money", "cash", "bank_transfer", "gateway", "other")
REFUND_METHODS_SQL = sql_list(REFUND_METHODS)


class Refund(db.Model):
    """Money the merchant gave back outside the gateway (mobile money, cash, transfer), recorded
    with the order's ``amount_refunded`` in one conditional UPDATE (orders.states.record_refund)."""

    __table_args__ = (
        CheckConstraint("amount > 0", name="refund_amount_positive"),
        CheckConstraint(f"method IN ({REFUND_METHODS_SQL})", name="refund_method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    #: The transfer's own id (a mobile-money transaction id), as the merchant typed it.
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The lines refunded, "line id x quantity" comma-separated; empty for an amount.
    lines: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    order: Mapped[Order] = relationship(back_populates="refunds")
