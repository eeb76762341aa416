"""Database models. Money is always an integer in minor units plus a currency."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import (
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
from sqlalchemy import event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from extensions import db


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
    amount: Mapped[int] = mapped_column(Integer)  # minor units

    product: Mapped[Product] = relationship(back_populates="prices")


class Order(db.Model):
    __tablename__ = "orders"
    # The dashboard's search (exact e-mail, any case; phone) and revenue-by-day queries.
    __table_args__ = (
        Index("ix_orders_customer_phone", "customer_phone"),
        Index("ix_orders_paid_at", "paid_at"),
        Index("ix_orders_currency_created_at", "currency", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    checkout_key: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
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

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", order_by="Payment.id"
    )

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


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class Payment(db.Model):
    # The dashboard: per-gateway figures, and what needs attention.
    __table_args__ = (
        Index("ix_payment_gateway_created_at", "gateway", "created_at"),
        Index("ix_payment_attention", "attention"),
        Index("ix_payment_gateway_ref2", "gateway_ref2"),
    )
    ACTIVE = ("created", "pending")
    FINAL = ("succeeded", "failed", "cancelled", "expired", "error")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    gateway: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="created", index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    gateway_ref: Mapped[str | None] = mapped_column(String(512), index=True)
    #: A second gateway id where there is one (PayUnit's invoice ``ref``, …).
    gateway_ref2: Mapped[str | None] = mapped_column(String(128))
    #: What the gateway last reported as received (partial payments), minor units.
    amount_received: Mapped[int | None] = mapped_column(Integer)
    redirect_url: Mapped[str | None] = mapped_column(String(1024))
    #: Why a person must look at this payment (amount mismatch, paid twice, …).
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

    __table_args__ = (Index("ix_payment_event_kind_created_at", "kind", "created_at"),)

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
    """An e-mail to a customer, written in the same transaction as the change it announces
    and sent afterwards by whoever claims it first: each is sent once, retried until it is."""

    __table_args__ = (Index("ix_outbox_email_status_next", "status", "next_attempt_at"),)
    STATUSES = ("pending", "sending", "sent")

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirmation, receipt, payment_failed
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
