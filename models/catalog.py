"""The catalogue's tables: categories, products, their options and variants, prices per currency
(a variant's own price overrides its product's), and the catalogue's version (what tells every
process its caches are stale).

Every product has at least one variant: a product with no options has exactly one, its default
variant, with no option values. Stock lives on the variants; ``Product.stock`` is their sum, kept
in the same statements by shop.stock and shop.products (CHECK constraints keep both >= 0)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import pricing
from core.i18n import current_language
from core.search import search_text
from extensions import db
from models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.media import ImageUpload, ProductImage


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: The name in French; ``name_en`` in English. Either may be empty: the other is shown.
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="", server_default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Shown in the shop's category list; a hidden category's page is a 404 (its products stay on sale).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    #: An optional photo, kept in the photo storage like product photos (media.images): "" for none.
    image_digest: Mapped[str] = mapped_column(String(32), default="", server_default="")
    image_width: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    image_height: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    image_widths: Mapped[str] = mapped_column(String(40), default="", server_default="")

    products: Mapped[list[Product]] = relationship(back_populates="category")

    def name_in(self, language: str) -> str:
        """The name in ``language`` (fr, en), else in the other one."""
        return (self.name_en or self.name) if language == "en" else (self.name or self.name_en)

    @property
    def display_name(self) -> str:
        """The name in the language of the current request."""
        return self.name_in(current_language())


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
    #: A variant at or below this many units is "low stock" (one e-mail to the merchant);
    #: None: the shop's default (dashboard settings, else ``LOW_STOCK_THRESHOLD``).
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)

    category: Mapped[Category | None] = relationship(back_populates="products")
    prices: Mapped[list[Price]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan",
        order_by="(ProductImage.is_main.desc(), ProductImage.position, ProductImage.id)",
    )
    #: Photos uploaded and waiting for a worker to resize them (media.images.prepare).
    uploads: Mapped[list[ImageUpload]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True, order_by="ImageUpload.id",
    )
    #: Up to three option names (Size, Colour…), by position; none for a product without options.
    options: Mapped[list[ProductOption]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductOption.position"
    )
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="(Variant.position, Variant.id)"
    )

    def __init__(self, **kwargs):
        """A new product gets its default variant (holding ``stock``) unless variants are given."""
        if "variants" not in kwargs:
            kwargs["variants"] = [Variant(stock=kwargs.get("stock") or 0, position=0)]
        kwargs.setdefault("stock", sum(v.stock or 0 for v in kwargs["variants"]))
        super().__init__(**kwargs)

    @property
    def has_options(self) -> bool:
        return bool(self.options)

    @property
    def default_variant(self) -> Variant | None:
        """The variant of a product without options (its only one); None when it has options."""
        return None if self.options or not self.variants else self.variants[0]

    def variant(self, variant_id: int | None) -> Variant | None:
        """This product's variant ``variant_id``; None (no id) is the default variant."""
        if variant_id is None:
            return self.default_variant
        return next((v for v in self.variants if v.id == variant_id), None)

    def price_in(self, currency: str) -> Price | None:
        """This product's own price in ``currency`` (no conversion), or None."""
        return next((p for p in self.prices if p.currency == currency), None)

    def selling_price(self, currency: str) -> int | None:
        """What a customer pays in ``currency`` (minor units): the own price, else the
        at-par CFA franc price (XOF for XAF and back), else None."""
        return pricing.selling_price(self, currency)

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
        return self.name_in(current_language())

    @property
    def display_description(self) -> str:
        """The description in the language of the current request."""
        return self.description_in(current_language())

    @property
    def main_image(self) -> ProductImage | None:
        """The picture shown in lists: the one marked main, else the first."""
        return next((i for i in self.images if i.is_main), self.images[0] if self.images else None)


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _fold_search_text(mapper, connection, product: Product) -> None:
    """Keep the folded search column in step with the names and descriptions."""
    product.search_text = search_text(product)


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


#: At most this many options per product (Size, Colour, Material…).
MAX_OPTIONS = 3


class ProductOption(db.Model):
    """An option of a product (e.g. "Taille"); its values are the variants' ``option1..3``."""

    __tablename__ = "product_option"
    __table_args__ = (UniqueConstraint("product_id", "position"),
                      CheckConstraint("position >= 0 AND position < 3", name="position_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    #: 0, 1 or 2: which of the variants' option1, option2, option3 holds this option's value.
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    #: Its name for English-speaking customers ("Size" for "Taille"); None: ``name`` everywhere.
    name_en: Mapped[str | None] = mapped_column(String(40))

    product: Mapped[Product] = relationship(back_populates="options")


class Variant(db.Model):
    """One combination a merchant offers (M / Rouge), with its own SKU, stock, optional prices
    (overriding the product's, per market) and an optional photo among the product's."""

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        UniqueConstraint("product_id", "option1", "option2", "option3"),
        Index("ix_variant_product_position", "product_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    #: The merchant's stock-keeping unit; unique in the shop when set (None when not).
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    option1: Mapped[str] = mapped_column(String(60), default="", server_default="")
    option2: Mapped[str] = mapped_column(String(60), default="", server_default="")
    option3: Mapped[str] = mapped_column(String(60), default="", server_default="")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("product_image.id", ondelete="SET NULL"))
    #: Set when the merchant was told this variant is low (one e-mail per crossing), cleared on restock.
    low_stock_alerted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    product: Mapped[Product] = relationship(back_populates="variants")
    prices: Mapped[list[VariantPrice]] = relationship(
        back_populates="variant", cascade="all, delete-orphan"
    )
    image: Mapped[ProductImage | None] = relationship()

    @property
    def values(self) -> tuple[str, ...]:
        """The option values in use, in option order ("M", "Rouge")."""
        return tuple(v for v in (self.option1, self.option2, self.option3) if v)

    @property
    def label(self) -> str:
        """How lines, slips and gateways name it: "M / Rouge"; "" for a default variant."""
        return variant_label(self.values)

    def price_in(self, currency: str) -> VariantPrice | None:
        """This variant's own price in ``currency`` (no fallback), or None."""
        return next((p for p in self.prices if p.currency == currency), None)

    def selling_price(self, currency: str) -> int | None:
        """What a customer pays for this variant in ``currency``: its own price (or its par
        twin's), else the product's selling price."""
        own = pricing.selling_price(self, currency)
        return own if own is not None else self.product.selling_price(currency)


def variant_label(values: tuple[str, ...] | list[str]) -> str:
    """Option values as one label: ("M", "Rouge") → "M / Rouge"."""
    return " / ".join(v for v in values if v)


class VariantPrice(db.Model):
    __tablename__ = "variant_price"
    __table_args__ = (
        UniqueConstraint("variant_id", "currency"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units

    variant: Mapped[Variant] = relationship(back_populates="prices")


class CatalogVersion(db.Model):
    """One row: a counter bumped in the same transaction as every product, price, category or
    stock change, so that every process sees its catalogue caches are stale (shop/catalog.py)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
