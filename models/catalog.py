"""The catalogue's tables: categories, products, their prices per currency, and the
catalogue's version (what tells every process its caches are stale)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import pricing
from core.i18n import current_language
from core.search import search_text
from extensions import db
from models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.media import ProductImage


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


class CatalogVersion(db.Model):
    """One row: a counter bumped in the same transaction as every product, price, category or
    stock change, so that every process sees its catalogue caches are stale (shop/catalog.py)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
