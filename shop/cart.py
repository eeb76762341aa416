"""The cart lives in the session as ``{variant_id: quantity}``; prices never do.

A product without options is bought as its default variant. Every total is recomputed from the
database on each request.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from models import Product, Variant


class CartError(ValueError):
    """A cart change that cannot be made; the message is for the customer."""


@dataclass
class CartLine:
    product: Product
    variant: Variant
    quantity: int
    unit_price: int
    line_total: int

    @property
    def display_name(self) -> str:
        """The product's name in the request's language, with the variant's values."""
        label = self.variant.label
        return f"{self.product.display_name} ({label})" if label else self.product.display_name

    @property
    def image(self):
        """The variant's photo, else the product's main one."""
        return self.variant.image or self.product.main_image


@dataclass
class PricedCart:
    currency: str
    lines: list[CartLine] = field(default_factory=list)
    #: Messages about items that were dropped or reduced (no price, no stock).
    notices: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def items(self) -> dict[int, int]:
        """``{variant_id: quantity}`` of what can actually be bought."""
        return {line.variant.id: line.quantity for line in self.lines}


def current_currency() -> str:
    """The market's currency chosen in the session (never from a form at checkout)."""
    return session.get("currency") or current_app.config["DEFAULT_CURRENCY"]


def raw_items() -> dict[int, int]:
    """The session's cart as ``{variant_id: quantity}``, ignoring garbage."""
    items = {}
    for key, qty in (session.get(SESSION_KEY) or {}).items():
        if str(key).isdigit() and isinstance(qty, int) and qty > 0:
            items[int(key)] = qty
    return items


#: The session's key (a cart of product ids, before variants, was kept under "cart").
SESSION_KEY = "lines"


def _save(items: dict[int, int]) -> None:
    session.pop("cart", None)
    session[SESSION_KEY] = {str(k): v for k, v in items.items()}
    session.permanent = True
    reset_checkout_key()


def reset_checkout_key() -> None:
    """Forget the checkout key: the next checkout places a new order."""
    session.pop("checkout_key", None)


def checkout_key() -> str:
    """The key that makes one cart state place at most one order."""
    if "checkout_key" not in session:
        session["checkout_key"] = secrets.token_urlsafe(16)
    return session["checkout_key"]


def _sellable(variant: Variant | None) -> Variant:
    if variant is None or not variant.product.active:
        raise CartError(_("This product is not available."))
    if variant.selling_price(current_currency()) is None:
        raise CartError(_("%(name)s is not sold in %(currency)s.", name=variant.product.display_name,
                          currency=current_currency()))
    return variant


def display_name(variant: Variant) -> str:
    """The product's name in the request's language, with the variant's values."""
    label = variant.label
    return f"{variant.product.display_name} ({label})" if label else variant.product.display_name


def max_quantity(variant: Variant) -> int:
    """The most of ``variant`` one cart may hold: its stock, capped by configuration."""
    return min(variant.stock, current_app.config["CART_MAX_QUANTITY"])


def find_variant(product_id: int | None, variant_id: int | None) -> Variant | None:
    """The variant a form names: ``variant_id`` (of ``product_id`` when both are given), else the
    default variant of a product without options."""
    if variant_id is not None:
        variant = db.session.get(Variant, variant_id)
        if variant is None or (product_id is not None and variant.product_id != product_id):
            return None
        return variant
    product = db.session.get(Product, product_id) if product_id is not None else None
    if product is None:
        return None
    if product.has_options:
        raise CartError(_("Choose %(options)s first.", options=", ".join(o.name for o in product.options)))
    return product.default_variant


def add(product_id: int | None, quantity: int, variant_id: int | None = None) -> Variant:
    """Add ``quantity`` of a variant (a product without options: its default one), refusing
    more than stock or the maximum."""
    variant = _sellable(find_variant(product_id, variant_id))
    items = raw_items()
    wanted = items.get(variant.id, 0) + quantity
    if variant.stock <= 0:
        raise CartError(_("%(name)s is out of stock.", name=display_name(variant)))
    if wanted > max_quantity(variant):
        raise CartError(_at_most(variant))
    if variant.id not in items and len(items) >= current_app.config["CART_MAX_LINES"]:
        raise CartError(_("Your cart is full."))
    items[variant.id] = wanted
    _save(items)
    return variant


def _at_most(variant: Variant) -> str:
    return _("You can buy at most %(num)d of %(name)s.", num=max_quantity(variant), name=display_name(variant))


def line_id(product_id: int | None, variant_id: int | None) -> int | None:
    """The cart line a form names: its variant id, else a product's default variant's id."""
    if variant_id is not None:
        return variant_id
    if product_id is None:
        return None
    product = db.session.get(Product, product_id)
    variant = product.default_variant if product is not None else None
    return variant.id if variant is not None else None


def set_quantity(variant_id: int, quantity: int) -> None:
    """Change a line's quantity; zero removes it."""
    items = raw_items()
    if variant_id not in items:
        raise CartError(_("This product is not in your cart."))
    if quantity == 0:
        return remove(variant_id)
    variant = _sellable(db.session.get(Variant, variant_id))
    if quantity > max_quantity(variant):
        raise CartError(_at_most(variant))
    items[variant_id] = quantity
    _save(items)


def remove(variant_id: int) -> None:
    """Drop a line from the cart."""
    items = raw_items()
    items.pop(variant_id, None)
    _save(items)


def clear() -> None:
    """Empty the cart (after the customer was sent to pay)."""
    session.pop(SESSION_KEY, None)
    session.pop("cart", None)
    reset_checkout_key()


def priced(currency: str | None = None, pictures: bool = False) -> PricedCart:
    """The cart priced from the database in ``currency`` (default: the session's); with
    ``pictures``, each product's photos are loaded in the same go (one query for all the
    lines' thumbnails, not one per line)."""
    currency = currency or current_currency()
    items = raw_items()
    cart = PricedCart(currency=currency)
    if not items:
        return cart
    query = (select(Variant).where(Variant.id.in_(items))
             .options(selectinload(Variant.prices), selectinload(Variant.image),
                      selectinload(Variant.product).selectinload(Product.prices),
                      selectinload(Variant.product).selectinload(Product.options)))
    if pictures:
        query = query.options(selectinload(Variant.product).selectinload(Product.images))
    variants = db.session.scalars(query).all()
    for variant in sorted(variants, key=lambda v: (v.product.display_name, v.position, v.id)):
        product = variant.product
        price = variant.selling_price(currency)  # XOF and XAF at par (core/pricing.py)
        if not product.active or price is None:
            cart.notices.append(_("%(name)s is not available in %(currency)s.", name=display_name(variant), currency=currency))
            continue
        qty = min(items[variant.id], max_quantity(variant))
        if qty <= 0:
            cart.notices.append(_("%(name)s is out of stock.", name=display_name(variant)))
            continue
        if qty < items[variant.id]:
            cart.notices.append(_("Only %(num)d of %(name)s left: quantity reduced.", num=qty, name=display_name(variant)))
        cart.lines.append(CartLine(product, variant, qty, price, price * qty))
    return cart
