"""The merchant's catalogue: products, their prices per market, stock and photos.

Prices are typed in major units ("15000", "12.50") and stored as integer
minor units, converted with Decimal (never a float). Photos are decoded and
re-encoded by media/images.py (never stored as uploaded): no SVG, no script.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import format_decimal, format_number
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from config import MARKETS
from core import search
from extensions import db
from media import images
from media.storage import StorageUnavailable
from models import Category, Price, Product, Variant
from providers.base import EXPONENTS
from shop import stock

#: At most this many characters of a dashboard search are used.
SEARCH_MAX = 80

PRICE_MAX_DIGITS = 12
#: The largest price in minor units: with at most a million of a product in a cart line,
#: every line and order total still fits in the 64-bit money columns.
PRICE_MAX_MINOR = 10**12
#: The most units of one product in stock (the form's bound, kept by edits that move it too).
STOCK_MAX = 1_000_000


#: A ProductData field the form did not carry (keep the stored value).
UNCHANGED = object()


class ProductError(ValueError):
    """The product cannot be saved as given; the message names the field's problem."""

    def __init__(self, message: str, field: str = "", http_status: int = 400):
        super().__init__(message)
        self.field = field
        self.http_status = http_status  # 503: the photo storage failed, not the merchant


@dataclass
class ProductData:
    name: str  # French; either name may be empty, not both
    slug: str
    description: str
    category_id: int | None
    stock: int
    active: bool
    irembopay_product_code: str
    prices: dict[str, str]  # currency → major units as typed ("" = not sold there)
    name_en: str = ""
    description_en: str = ""
    #: None: the shop's default; UNCHANGED: not on the form (keep what is stored).
    low_stock_threshold: int | None | object = UNCHANGED


@dataclass
class PhotoChanges:
    """What the merchant did to the photos: new files, the main one, those to delete."""

    uploads: list = field(default_factory=list)  # file-like objects
    main_id: int | None = None
    delete_ids: set[int] = field(default_factory=set)


def all_products(query: str = "", low: bool = False) -> list[Product]:
    """Every product, active or not, with its prices and category, by name; with ``query``,
    those whose names or descriptions (French or English) hold its words, any case or accents;
    with ``low``, those with a variant at or below its low-stock threshold."""
    stmt = select(Product).options(selectinload(Product.prices), selectinload(Product.category),
                                   selectinload(Product.options), selectinload(Product.variants))
    if low:
        stmt = stmt.where(Product.id.in_({v.product_id for v in stock.low_stock()}))
    condition = search.matches(Product.search_text, query.strip()[:SEARCH_MAX])
    if condition is not None:
        stmt = stmt.where(condition)
    return list(db.session.scalars(stmt.order_by(Product.name)))


def categories() -> list[Category]:
    """Categories for the product form."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def to_minor(text: str, currency: str) -> int:
    """``"12.50", "USD"`` → 1250; refuses more decimals than the currency has, and non-positive."""
    try:
        value = Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ProductError(_("%(currency)s: write a number such as 1500 or 12.50.", currency=currency),
                           currency) from None
    if not value.is_finite() or value <= 0:
        raise ProductError(_("%(currency)s: the price must be above zero.", currency=currency), currency)
    if value.adjusted() >= PRICE_MAX_DIGITS or value.scaleb(EXPONENTS[currency]) > PRICE_MAX_MINOR:
        highest = Decimal(PRICE_MAX_MINOR).scaleb(-EXPONENTS[currency])
        pattern = "#,##0" + ("." + "0" * EXPONENTS[currency] if EXPONENTS[currency] else "")
        raise ProductError(_("%(currency)s: at most %(most)s %(currency)s.", currency=currency,
                             most=format_decimal(highest, pattern)), currency)
    minor = value.scaleb(EXPONENTS[currency])
    if minor != minor.to_integral_value():
        places = EXPONENTS[currency]
        raise ProductError(_("%(currency)s: at most %(places)s decimal place(s).", currency=currency,
                             places=places), currency)
    return int(minor)


def slugify(text: str) -> str:
    """A URL slug from a product name ("Café du Rwanda" → "cafe-du-rwanda")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:120]


def read_upload(stream) -> bytes:
    """An uploaded file's bytes, refusing more than PRODUCT_IMAGE_MAX_BYTES."""
    limit = current_app.config["PRODUCT_IMAGE_MAX_BYTES"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ProductError(_("The image is larger than %(size)s KB.", size=limit // 1024), "images")
    return data


def _apply_photos(product: Product, photos: PhotoChanges) -> None:
    try:
        if photos.delete_ids:
            images.remove_images(product, photos.delete_ids)
        for upload in photos.uploads:
            images.add_image(product, read_upload(upload))
        if photos.main_id is not None and photos.main_id not in photos.delete_ids:
            images.set_main(product, photos.main_id)
    except images.ImageError as exc:
        db.session.rollback()
        raise ProductError(str(exc), "images") from None
    except StorageUnavailable as exc:
        db.session.rollback()  # nothing of the product is saved; variants already put are orphans
        current_app.logger.warning("product photos not saved: %s", exc)
        raise ProductError(_("The photo storage is not answering, so nothing was saved: "
                             "choose the photos again in a moment."), "images", http_status=503) from None


def _prices(data: ProductData) -> dict[str, int]:
    return {c: to_minor(v, c) for c, v in data.prices.items() if c in MARKETS and v.strip()}


def check_product(data: ProductData, product: Product | None) -> None:
    """What every save checks: a name, a free slug, a known category (ProductError)."""
    if not (data.name or data.name_en):
        raise ProductError(_("Give the product a name, in French or in English."), "name")
    if not data.slug:
        raise ProductError(_("Give the product a name made of letters or digits."), "slug")
    clash = db.session.scalar(select(Product.id).where(Product.slug == data.slug))
    if clash is not None and (product is None or clash != product.id):
        raise ProductError(_("Another product already has this address (slug)."), "slug")
    if data.category_id is not None and db.session.get(Category, data.category_id) is None:
        raise ProductError(_("Choose a category from the list."), "category_id")


TEXT_FIELDS = ("slug", "name", "name_en", "description", "description_en", "category_id", "active")


def create_product(data: ProductData, photos: PhotoChanges | None = None) -> Product:
    """Add a product with its prices (and photos when some were uploaded)."""
    check_product(data, None)
    prices = _prices(data)
    product = Product(**{f: getattr(data, f) for f in TEXT_FIELDS}, stock=data.stock,
                      low_stock_threshold=None if data.low_stock_threshold is UNCHANGED else data.low_stock_threshold,
                      irembopay_product_code=data.irembopay_product_code or None,
                      prices=[Price(currency=c, amount=a) for c, a in prices.items()])
    db.session.add(product)
    _apply_photos(product, photos or PhotoChanges())
    db.session.commit()
    return product


def update_product(product: Product, data: ProductData, stock_seen: int,
                   photos: PhotoChanges | None = None) -> None:
    """Save the merchant's changes. Stock moves by the difference from what the form
    showed, so units reserved by customers meanwhile are not given back twice."""
    check_product(data, product)
    prices = _prices(data)
    _apply_photos(product, photos or PhotoChanges())
    set_fields(product, data, prices)
    _move_stock(product, data.stock - stock_seen)
    db.session.flush()
    stock.refresh_low_marks(product)
    db.session.commit()


def set_fields(product: Product, data: ProductData, prices: dict[str, int]) -> None:
    """Set everything but stock and photos from checked ``data`` (``prices`` in minor units)."""
    for name in TEXT_FIELDS:
        setattr(product, name, getattr(data, name))
    product.irembopay_product_code = data.irembopay_product_code or None
    set_prices(product, prices)
    if data.low_stock_threshold is not UNCHANGED:
        product.low_stock_threshold = data.low_stock_threshold  # type: ignore[assignment]


def set_prices(owner: Any, prices: dict[str, int], kind: type = Price) -> None:
    """Make ``owner``'s own prices (a product's ``Price`` rows, a variant's ``VariantPrice`` ones)
    exactly ``prices``: currency → minor units; a currency left out is no longer priced there."""
    for price in list(owner.prices):
        if price.currency not in prices:
            owner.prices.remove(price)
    for currency, amount in prices.items():
        existing = owner.price_in(currency)
        if existing is None:
            owner.prices.append(kind(currency=currency, amount=amount))
        else:
            existing.amount = amount


def _move_stock(product: Product, delta: int) -> None:
    """Move a product without options by ``delta`` (its default variant and its total)."""
    if delta == 0:
        return
    variant = product.default_variant
    if variant is None:
        db.session.rollback()
        raise ProductError(_("This product has options: its stock is set per variant."), "stock")
    move_variant_stock(variant, delta)


def move_variant_stock(variant: Variant, delta: int) -> None:
    """Move one variant's stock (and its product's total) by ``delta``, unless customers took
    some meanwhile so that it would go below zero (ProductError, rolled back)."""
    if delta == 0:
        return
    if variant.stock + delta > STOCK_MAX:
        db.session.rollback()
        raise ProductError(_("The stock can be at most %(most)s.", most=format_number(STOCK_MAX)), "stock")
    result = db.session.execute(
        update(Variant).where(Variant.id == variant.id, Variant.stock + delta >= 0,
                              Variant.stock + delta <= STOCK_MAX)
        .values(stock=Variant.stock + delta).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ProductError(_("Customers reserved some of this stock meanwhile: reload and try again."), "stock")
    db.session.execute(update(Product).where(Product.id == variant.product_id)
                       .values(stock=Product.stock + delta).execution_options(synchronize_session=False))
    db.session.expire(variant, ["stock"])
    db.session.expire(variant.product, ["stock"])
