"""Placing orders (re-priced from the database, stock reserved) and expiring them."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import Order, OrderLine, Payment, PaymentEvent, Product, utcnow
from services import mail
from services.cart import PricedCart

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class CheckoutError(ValueError):
    """The order cannot be placed; the message is for the customer."""


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str  # E.164
    language: str = "fr"  # the language the customer shopped in: e-mails and gateway pages follow it


def new_reference(prefix: str, length: int = 10) -> str:
    """A random, unguessable, readable reference such as ``CMD-7KQ2M9XW4T``."""
    return prefix + "-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))


def find_by_token(token: str) -> Order | None:
    """The order whose access token is ``token``."""
    return db.session.scalar(select(Order).where(Order.token == token))


def find_by_checkout_key(key: str) -> Order | None:
    """The order already placed from this checkout, if any (double submit)."""
    return db.session.scalar(select(Order).where(Order.checkout_key == key))


def place_order(cart: PricedCart, customer: Customer, checkout_key: str) -> Order:
    """Store the order and reserve its stock in one transaction.

    Prices come from ``cart``, which was priced from the database in this request.
    Stock is reserved with a conditional UPDATE, so it never goes below zero.
    Placing the same checkout twice returns the first order.
    """
    if not cart.lines:
        raise CheckoutError(_("Your cart is empty."))
    if cart.total <= 0:
        raise CheckoutError(_("The order total must be above zero."))
    try:
        order = _insert_order(cart, customer, checkout_key)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = find_by_checkout_key(checkout_key)
        if existing is None:
            raise
        return existing
    except CheckoutError:
        db.session.rollback()
        raise
    log.info("order %s placed: %s %s", order.reference, order.total, order.currency)
    return order


def _insert_order(cart: PricedCart, customer: Customer, checkout_key: str) -> Order:
    for line in cart.lines:
        reserve_stock(line.product, line.quantity)
    minutes = current_app.config["ORDER_EXPIRY_MINUTES"]
    order = Order(
        reference=new_reference("CMD"),
        token=secrets.token_urlsafe(24),
        checkout_key=checkout_key,
        currency=cart.currency,
        subtotal=cart.total,
        total=cart.total,
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        language=customer.language,
        expires_at=utcnow() + timedelta(minutes=minutes),
        lines=[
            OrderLine(
                product_id=line.product.id,
                name=line.product.name_in(customer.language),
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in cart.lines
        ],
    )
    db.session.add(order)
    db.session.flush()
    mail.enqueue(order, "confirmation")
    return order


def reserve_stock(product: Product, quantity: int) -> None:
    """Take ``quantity`` from stock atomically, or raise CheckoutError."""
    result = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CheckoutError(_("Sorry, there is not enough stock left of %(name)s.", name=product.display_name))


def release_stock(order: Order) -> bool:
    """Give an unpaid order's reserved stock back, once."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(False))
        .values(stock_released=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    for line in order.lines:
        db.session.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(stock=Product.stock + line.quantity)
            .execution_options(synchronize_session=False)
        )
    return True


def _close_order(order: Order, status: str, now: datetime, *conditions) -> bool:
    """Move a pending order to ``status`` (if ``conditions`` hold), give its stock back and
    end its open attempts with the same status. Caller commits; False when it had moved on."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "pending", *conditions)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    release_stock(order)
    db.session.execute(
        update(Payment)
        .where(Payment.order_id == order.id, Payment.status.in_(Payment.ACTIVE))
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def expire_order(order: Order, now: datetime | None = None) -> bool:
    """Expire a pending order past its expiry: release stock, end open attempts."""
    now = now or utcnow()
    if not _close_order(order, "expired", now, Order.expires_at <= now):
        return False
    db.session.commit()
    log.info("order %s expired, stock released", order.reference)
    return True


def due_for_expiry(now: datetime | None = None) -> list[Order]:
    """Pending orders whose reservation has run out."""
    now = now or datetime.now(timezone.utc)
    return list(
        db.session.scalars(
            select(Order).where(Order.status == "pending", Order.expires_at <= now)
        )
    )


def cancel_order(order: Order, *, actor: str, note: str = "", now: datetime | None = None) -> bool:
    """Cancel a pending order (merchant action): release its stock, end its open
    attempts and log who did it, in one transaction. False when no longer pending."""
    now = now or utcnow()
    if not _close_order(order, "cancelled", now):
        return False
    db.session.add(PaymentEvent(
        order_id=order.id, actor=actor, gateway="", kind="manual", status_after="cancelled",
        note=("order cancelled, stock released" + (f": {note}" if note else ""))[:300],
    ))
    db.session.commit()
    log.info("order %s cancelled by the merchant, stock released", order.reference)
    return True
