"""Placing orders (re-priced from the database, stock reserved) and expiring them."""
from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import phones
from core.references import new_reference
from delivery.options import CASH, Delivery
from extensions import db
from mail import outbox as mail
from models import Order, OrderLine, utcnow
from notifications import sms
from orders import states
from orders.states import OrderStatus
from shop import promos
from shop.cart import PricedCart
from shop.stock import OutOfStock, reserve_lines

log = logging.getLogger(__name__)


class CheckoutError(ValueError):
    """The order cannot be placed; the message is for the customer."""


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str  # E.164
    language: str = "fr"  # the language the customer shopped in: e-mails and gateway pages follow it


def find_by_token(token: str) -> Order | None:
    """The order whose access token is ``token``."""
    return db.session.scalar(select(Order).where(Order.token == token))


def find_by_reference_and_phone(reference: str, phone: str) -> Order | None:
    """"Find my order": the order numbered ``reference`` ("CMD-…", any case, with or without the
    prefix) if ``phone`` is its customer's number (written any way the checkout accepts).
    A wrong number and a wrong phone both give None, after the same work."""
    wanted = (reference or "").strip().upper()[:40]
    if wanted and not wanted.startswith("CMD-"):
        wanted = f"CMD-{wanted}"
    order = db.session.scalar(select(Order).where(Order.reference == wanted)) if wanted else None
    stored = order.customer_phone if order is not None else "+10000000000"
    try:
        given = phones.normalise(phone, order.currency if order is not None else "USD")
    except phones.PhoneError:
        given = "+" + phones.digits(phone)
    same = hmac.compare_digest(given.encode(), stored.encode())
    return order if order is not None and same else None


def find_by_checkout_key(key: str) -> Order | None:
    """The order already placed from this checkout, if any (double submit)."""
    return db.session.scalar(select(Order).where(Order.checkout_key == key))


def place_order(cart: PricedCart, customer: Customer, checkout_key: str,
                delivery: Delivery | None = None, payment_method: str = "gateway",
                promo_code: str = "") -> Order:
    """Store the order and reserve its stock in one transaction.

    Prices come from ``cart``, which was priced from the database in this request.
    Stock is reserved with a conditional UPDATE, so it never goes below zero.
    Placing the same checkout twice returns the first order. ``delivery`` (re-checked by
    delivery.options.choose) adds its fee: total = items + delivery. A ``cash`` order (the
    caller checked that its delivery accepts cash) joins the "To fulfil" queue at once and does
    not expire: its stock stays held until the merchant records the cash or the refusal.
    """
    if not cart.lines:
        raise CheckoutError(_("Your cart is empty."))
    if cart.total <= 0:
        raise CheckoutError(_("The order total must be above zero."))
    try:
        order = _insert_order(cart, customer, checkout_key, delivery, payment_method, promo_code)
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


def _insert_order(cart: PricedCart, customer: Customer, checkout_key: str,
                  delivery: Delivery | None = None, payment_method: str = "gateway",
                  promo_code: str = "") -> Order:
    fee = delivery.fee if delivery else 0
    discount, code = 0, ""
    if promo_code:  # checked again now: it may have run out while the customer was away
        try:
            saving = promos.evaluate(promo_code, cart, customer.phone)
        except promos.PromoError as exc:
            raise CheckoutError(str(exc)) from None
        discount, code = saving.discount(fee), saving.code
        if discount >= cart.total + fee:
            raise CheckoutError(_("This code cannot make the order free: remove it to pay the order."))
    try:
        low = reserve_lines((line.variant, line.quantity) for line in cart.lines)
    except OutOfStock as exc:
        raise CheckoutError(_("Sorry, there is not enough stock left of %(name)s.", name=str(exc))) from None
    minutes = current_app.config["ORDER_EXPIRY_MINUTES"]
    order = Order(
        reference=new_reference("CMD"),
        token=secrets.token_urlsafe(24),
        checkout_key=checkout_key,
        currency=cart.currency,
        subtotal=cart.total,
        total=cart.total + fee - discount,
        discount=discount,
        promo_code=code,
        **(delivery.order_columns() if delivery else {}),
        customer_name=customer.name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        language=customer.language,
        payment_method=payment_method,
        expires_at=utcnow() + timedelta(minutes=minutes),
        lines=[
            OrderLine(
                product_id=line.product.id,
                variant_id=line.variant.id,
                name=line.product.name_in(customer.language),
                variant_name=line.variant.label,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in cart.lines
        ],
    )
    db.session.add(order)
    db.session.flush()
    if code:
        try:
            promos.redeem(order, code)  # one use, in this transaction: exactly max_uses orders get it
        except promos.PromoError as exc:
            raise CheckoutError(str(exc)) from None
    if payment_method == CASH:  # nothing to wait for online: the goods go out, the cash comes back
        states.transition(order, states.FulfilmentStatus.UNFULFILLED, actor=states.CUSTOMER,
                          why="cash on delivery chosen: to fulfil, cash to collect",
                          when=[Order.delivery_method.is_not(None)])
    mail.enqueue(order, "confirmation")
    mail.enqueue_low_stock(low)
    sms.enqueue(order, "received")
    return order


def expire_order(order: Order, now: datetime | None = None) -> bool:
    """Expire a pending order past its expiry: release stock, end open attempts."""
    now = now or utcnow()
    if not states.transition(order, OrderStatus.EXPIRED, actor=states.RECONCILIATION,
                             why="reservation ran out unpaid",
                             when=[Order.expires_at <= now, Order.payment_method != CASH]):
        db.session.rollback()
        return False
    db.session.commit()
    log.info("order %s expired, stock released", order.reference)
    return True


def due_for_expiry(now: datetime | None = None) -> list[Order]:
    """Pending orders whose reservation has run out (cash orders never: their stock is held
    until the merchant records the cash or the refusal)."""
    now = now or datetime.now(timezone.utc)
    return list(
        db.session.scalars(
            select(Order).where(Order.status == OrderStatus.PENDING, Order.expires_at <= now,
                                Order.payment_method != CASH)
        )
    )


def cancel_order(order: Order, *, actor: str, note: str = "", restock: list[int] | None = None,
                 reason: str = "") -> bool:
    """Cancel a pending (or, by the merchant, a paid) order: release its stock (every line, or
    the line ids in ``restock``), end its open attempts and log who did it, in one transaction.
    ``reason`` is kept on the order for the customer. False when it can no longer be cancelled."""
    why = "order cancelled" + (f": {note}" if note else "")
    values = {"cancel_reason": reason.strip()[:200]} if reason.strip() else None
    context = {"restock": restock} if restock is not None else {}
    if not states.transition(order, OrderStatus.CANCELLED, actor=actor, why=why[:200], values=values,
                             when=[Order.fulfilment_status.not_in(states.FULFILMENT_GONE)], **context):
        db.session.rollback()
        return False
    db.session.commit()
    log.info("order %s cancelled by %s, stock released", order.reference, actor)
    return True


def refuse_cash(order: Order, *, actor: str, reason: str = "") -> bool:
    """A cash order refused at the door or not collected (returned): cancelled, its stock back
    (once: the cancel effect's conditional release), open attempts ended, the merchant in the
    log. Whatever its fulfilment (the goods came back). False when it is no longer a pending cash
    order (collected, paid online, already refused)."""
    reason = reason.strip()[:200]
    why = "cash order refused / returned" + (f": {reason}" if reason else "")
    if not states.transition(order, OrderStatus.CANCELLED, actor=actor, why=why[:200],
                             values={"cancel_reason": reason} if reason else None,
                             when=[Order.status == OrderStatus.PENDING, Order.payment_method == CASH]):
        db.session.rollback()
        return False
    db.session.commit()
    log.info("cash order %s refused/returned, recorded by %s; stock released", order.reference, actor)
    return True
