"""Database models. Money is always an integer in minor units plus a currency."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import event, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from extensions import db


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The statuses the database accepts (CHECK constraints); services.states owns their meaning
# and transitions, and a test checks that both lists agree.
ORDER_STATUSES = ("pending", "paid", "cancelled", "expired", "refunded")
PAYMENT_STATUSES = ("created", "pending", "succeeded", "failed", "cancelled", "expired", "error")
ATTENTION_KINDS = ("amount_mismatch", "amount_missing", "partial", "overpaid", "shortfall",
                   "paid_closed", "unknown_status", "other")
ORDER_STATUSES_SQL = _sql_list(ORDER_STATUSES)
PAYMENT_STATUSES_SQL = _sql_list(PAYMENT_STATUSES)
ATTENTION_KINDS_SQL = _sql_list(ATTENTION_KINDS)
FULFILMENT_STATUSES = ("not_applicable", "unfulfilled", "preparing", "shipped", "ready_for_pickup",
                       "delivered", "picked_up")
DELIVERY_METHODS = ("home", "pickup")
FULFILMENT_STATUSES_SQL = _sql_list(FULFILMENT_STATUSES)
DELIVERY_METHODS_SQL = _sql_list(DELIVERY_METHODS)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (the callable default for timestamps)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values read from it are naive; this makes both
    databases hand back the same aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)

    products: Mapped[list[Product]] = relationship(back_populates="category")


class Product(db.Model):
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: The name and description in French; ``name_en``/``description_en`` in English. Either
    #: language may be empty: the customer then reads the other (``name_in``).
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: Both names and descriptions folded (lower case, no accents) for search; set on every save.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The merchant's IremboPay product code for this product, when registered there.
    irembopay_product_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    category: Mapped[Category | None] = relationship(back_populates="products")
    prices: Mapped[list[Price]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan",
        order_by="(ProductImage.is_main.desc(), ProductImage.position, ProductImage.id)",
    )

    def price_in(self, currency: str) -> Price | None:
        """This product's own price in ``currency`` (no conversion), or None."""
        return next((p for p in self.prices if p.currency == currency), None)

    def selling_price(self, currency: str) -> int | None:
        """What a customer pays in ``currency`` (minor units): the own price, else the
        at-par CFA franc price (XOF for XAF and back), else None."""
        from services.pricing import selling_price

        return selling_price(self, currency)

    def name_in(self, language: str) -> str:
        """The name in ``language`` (fr, en), else in the other one."""
        return (self.name_en or self.name) if language == "en" else (self.name or self.name_en)

    def description_in(self, language: str) -> str:
        """The description in ``language`` (fr, en), else in the other one."""
        if language == "en":
            return self.description_en or self.description
        return self.description or self.description_en

    @property
    def display_name(self) -> str:
        """The name in the language of the current request."""
        from services.i18n import current_language

        return self.name_in(current_language())

    @property
    def display_description(self) -> str:
        """The description in the language of the current request."""
        from services.i18n import current_language

        return self.description_in(current_language())

    @property
    def main_image(self) -> ProductImage | None:
        """The picture shown in lists: the one marked main, else the first."""
        return next((i for i in self.images if i.is_main), self.images[0] if self.images else None)


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _fold_search_text(mapper, connection, product: Product) -> None:
    """Keep the folded search column in step with the names and descriptions."""
    from services.search import search_text

    product.search_text = search_text(product)


class ProductImage(db.Model):
    """One picture of a product, stored as resized variants (``ImageBlob`` or S3) named by
    ``digest``: ``<digest>-<width>.webp`` and ``.jpg`` for each width in ``widths``."""

    __table_args__ = (Index("ix_product_image_product_position", "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    #: SHA-256 (hex, 32 first characters) of the variants: the URL changes when the picture does.
    digest: Mapped[str] = mapped_column(String(32))
    #: Size of the largest variant, in pixels (the <img> width/height: no layout shift).
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: The variants' widths, ascending, comma-separated ("320,640,1280").
    widths: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def width_list(self) -> list[int]:
        """The variants' widths, ascending."""
        return [int(w) for w in self.widths.split(",") if w]


class ImageBlob(db.Model):
    """The bytes of one image variant, addressed by its key (the database storage backend)."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Price(db.Model):
    __table_args__ = (
        UniqueConstraint("product_id", "currency"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units

    product: Mapped[Product] = relationship(back_populates="prices")


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
        Index("ix_orders_fulfilment_paid_at", "fulfilment_status", "paid_at"),
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
    #: services.states.FulfilmentStatus; moved only by states.transition.
    fulfilment_status: Mapped[str] = mapped_column(String(20), default="not_applicable")
    courier: Mapped[str] = mapped_column(String(80), default="")
    tracking_note: Mapped[str] = mapped_column(String(200), default="")

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", order_by="Payment.id"
    )
    delivery_zone: Mapped[DeliveryZone | None] = relationship()
    pickup_point: Mapped[PickupPoint | None] = relationship()

    @property
    def active_payment(self) -> Payment | None:
        """The attempt still in flight (created or pending), if any."""
        return next((p for p in reversed(self.payments) if p.status in Payment.ACTIVE), None)

    @property
    def can_retry(self) -> bool:
        """True when the customer may start a new payment attempt."""
        return self.status == "pending" and self.active_payment is None


# Searching by e-mail in any case uses this index (declared here, it needs the column).
Index("ix_orders_email_lower", func.lower(Order.customer_email))
# The dashboard's per-currency totals of a filtered set read this index alone (index-only scan).
Index("ix_orders_totals", Order.currency, Order.status, Order.created_at, Order.total)


class DeliveryZone(db.Model):
    """Home delivery to an area of one market, at a fee in that market's currency."""

    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_nonnegative"),
        CheckConstraint("free_from IS NULL OR free_from > 0", name="free_from_positive"),
        CheckConstraint("delay_min_days >= 0 AND delay_max_days >= delay_min_days", name="delay_ordered"),
        Index("ix_delivery_zone_currency_active", "currency", "active"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PickupPoint(db.Model):
    """A place of one market where customers collect their order, free of charge."""

    __table_args__ = (Index("ix_pickup_point_currency_active", "currency", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    #: None for a free line of a payment link (a description and an amount, no product).
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()


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
    #: Why a person must look at this payment (services.states.AttentionKind), with the
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
    #: Why a callback was refused (services.states.Rejection); None when it was accepted.
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


class AdminUser(db.Model):
    """A merchant account for the dashboard; the password is a Werkzeug (scrypt) hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Flask-Login's user interface. The session id carries a fragment of the
    # password hash, so changing the password logs out every other session.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return f"{self.id}.{self.password_hash[-12:]}"


class OutboxEmail(db.Model):
    """An e-mail to a customer (or the merchant), written in the same transaction as the change
    it announces and sent afterwards by whoever claims it first: each is sent once, retried
    until it is. The merchant's daily summary concerns no order (``order_id`` None)."""

    __table_args__ = (Index("ix_outbox_email_status_next", "status", "next_attempt_at"),)
    STATUSES = ("pending", "sending", "sent")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # services.mail.KINDS
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


class AdminSession(db.Model):
    """One signed-in dashboard session. Its random id is kept in the signed session cookie;
    signing out revokes the row, so a copy of the cookie taken before is worth nothing."""

    __table_args__ = (Index("ix_admin_session_admin_id", "admin_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


LINK_STATUSES = ("open", "paid", "expired", "cancelled")
LINK_STATUSES_SQL = _sql_list(LINK_STATUSES)


class PaymentLink(db.Model):
    """A payment link (``/p/<code>``): one order made by the merchant for a customer met in a
    conversation. Its status follows its order (services.states owns both)."""

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
    #: The delivery method chosen by the merchant (services.links.delivery_choices), if any.
    delivery_method: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship()


class CatalogVersion(db.Model):
    """One row: a counter bumped in the same transaction as every product, price, category or
    stock change, so that every process sees its catalogue caches are stale (services/catalog.py)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
