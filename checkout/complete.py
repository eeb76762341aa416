"""Checkout: turn a priced cart into an order and a payment attempt, once."""
from __future__ import annotations

from dataclasses import dataclass

from delivery.options import CASH, Delivery
from extensions import db
from models import Order, Payment
from orders.lifecycle import Customer, find_by_checkout_key, place_order
from orders.states import OrderStatus
from payments.attempts import end_stale_attempts, start_payment
from shop.cart import PricedCart


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    payment: Payment | None  # None: nothing to pay (already paid, expired, …)


def checkout(cart: PricedCart, customer: Customer, gateway: str, key: str,
             delivery: Delivery | None = None, promo_code: str = "") -> CheckoutResult:
    """Place the order for ``key`` (or find it again) and open a payment at ``gateway``.

    Submitting the same checkout twice finds the first order; while one of its
    attempts is in flight that attempt is returned instead of opening another. ``gateway``
    ``cash`` (the caller re-checked that the delivery takes it: delivery.options.check_cash)
    places a cash order: no attempt, no gateway called; the order page says what to prepare.
    """
    order = find_by_checkout_key(key)
    if order is None:
        order = place_order(cart, customer, key, delivery, CASH if gateway == CASH else "gateway", promo_code)
    elif order.status == OrderStatus.PENDING:
        _update_customer(order, customer)
    if gateway == CASH or order.payment_method == CASH:
        return CheckoutResult(order, None)
    end_stale_attempts(order)
    if order.active_payment is not None:
        return CheckoutResult(order, order.active_payment)
    if not order.can_retry:
        return CheckoutResult(order, None)
    return CheckoutResult(order, start_payment(order, gateway))


def _update_customer(order: Order, customer: Customer) -> None:
    order.customer_name, order.customer_email, order.customer_phone, order.language = (
        customer.name, customer.email, customer.phone, customer.language)
    db.session.commit()
