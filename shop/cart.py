"""The cart lives in the session as ``{product_id: quantity}``; prices never do.

Every total is recomputed from the database on each request.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app, session
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from extensions import db
from models import Product


class CartError(ValueError):
    """A cart change that cannot be made; the message is for the customer."""


@dataclass
class CartLine:
    product: Product
    quantity: int
    unit_price: int
    line_total: int


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
        """``{product_id: quantity}`` of what can actually be bought."""
        return {line.product.id: line.quantity for line in self.lines}


def current_currency() -> str:
    """The market's currency chosen in the session (never from a form at checkout)."""
    return session.get("currency") or current_app.config["DEFAULT_CURRENCY"]


def raw_items() -> dict[int, int]:
    """The session's cart as ``{product_id: quantity}``, ignoring garbage."""
    items = {}
    for key, qty in (session.get("cart") or {}).items():
        if str(key).isdigit() and isinstance(qty, int) and qty > 0:
            items[int(key)] = qty
    return items


def _save(items: dict[int, int]) -> None:
    session["cart"] = {str(k): v for k, v in items.items()}
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


def _sellable(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.active:
        raise CartError(_("This product is not available."))
    if product.selling_price(current_currency()) is None:
        raise CartError(_("%(name)s is not sold in %(currency)s.", name=product.display_name, currency=current_currency()))
    return product


def max_quantity(product: Product) -> int:
    """The most of ``product`` one cart may hold: its stock, capped by configuration."""
    return min(product.stock, current_app.config["CART_MAX_QUANTITY"])


def add(product_id: int, quantity: int) -> Product:
    """Add ``quantity`` of a product, refusing more than stock or the maximum."""
    product = _sellable(product_id)
    items = raw_items()
    wanted = items.get(product_id, 0) + quantity
    if product.stock <= 0:
        raise CartError(_("%(name)s is out of stock.", name=product.display_name))
    if wanted > max_quantity(product):
        raise CartError(_at_most(product))
    if product_id not in items and len(items) >= current_app.config["CART_MAX_LINES"]:
        raise CartError(_("Your cart is full."))
    items[product_id] = wanted
    _save(items)
    return product


def _at_most(product: Product) -> str:
    return _("You can buy at most %(num)d of %(name)s.", num=max_quantity(product), name=product.display_name)


def set_quantity(product_id: int, quantity: int) -> None:
    """Change a line's quantity; zero removes it."""
    items = raw_items()
    if product_id not in items:
        raise CartError(_("This product is not in your cart."))
    if quantity == 0:
        return remove(product_id)
    product = _sellable(product_id)
    if quantity > max_quantity(product):
        raise CartError(_at_most(product))
    items[product_id] = quantity
    _save(items)


def remove(product_id: int) -> None:
    """Drop a line from the cart."""
    items = raw_items()
    items.pop(product_id, None)
    _save(items)


def clear() -> None:
    """Empty the cart (after the customer was sent to pay)."""
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
    query = select(Product).where(Product.id.in_(items)).options(selectinload(Product.prices))
    if pictures:
        query = query.options(selectinload(Product.images))
    products = db.session.scalars(query).all()
    for product in sorted(products, key=lambda p: p.display_name):
        price = product.selling_price(currency)  # XOF and XAF at par (core/pricing.py)
        if not product.active or price is None:
            cart.notices.append(_("%(name)s is not available in %(currency)s.", name=product.display_name, currency=currency))
            continue
        qty = min(items[product.id], max_quantity(product))
        if qty <= 0:
            cart.notices.append(_("%(name)s is out of stock.", name=product.display_name))
            continue
        if qty < items[product.id]:
            cart.notices.append(_("Only %(num)d of %(name)s left: quantity reduced.", num=qty, name=product.display_name))
        cart.lines.append(CartLine(product, qty, price, price * qty))
    return cart
