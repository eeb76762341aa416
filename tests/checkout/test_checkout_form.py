"""Checkout form: errors on the page, nothing half-made (issue 2)."""
from __future__ import annotations

import pytest

from models import Order, Payment
from tests.helpers import count, only_order, set_stock, stock_of, text_of


@pytest.mark.parametrize("field,value,message", [
    ("name", "", "This field is required."),
    ("email", "not-an-email", "Invalid email address."),
    ("phone", "call me", "Digits only"),
    ("gateway", "paypal", "Not a valid choice"),
])
def test_invalid_fields_show_errors_and_create_nothing(shopper, field, value, message):
    shopper.add_to_cart("cafe-rwanda")
    response = shopper.checkout(**{field: value})
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Order) == 0 and count(Payment) == 0


def test_checkout_without_csrf_is_refused(shopper):
    shopper.add_to_cart("cafe-rwanda")
    key = shopper.checkout_key()
    response = shopper.post("/checkout", {"name": "A B", "email": "a@b.bf", "phone": "+22670000000",
                                          "gateway": "ligdicash", "checkout_key": key}, csrf=False)
    assert response.status_code == 400 and count(Order) == 0


def test_stale_checkout_form_after_the_cart_changed(shopper):
    shopper.add_to_cart("cafe-rwanda")
    key = shopper.checkout_key()
    shopper.add_to_cart("savon-noir")
    response = shopper.checkout(key=key)
    assert response.status_code == 303 and response.headers["Location"].endswith("/checkout")
    assert count(Order) == 0


def test_order_snapshot_and_stock_reservation(shopper):
    before = stock_of("cafe-rwanda")
    shopper.add_to_cart("cafe-rwanda", 3)
    shopper.checkout()
    order = only_order()
    assert [(l.name, l.quantity, l.unit_price, l.line_total) for l in order.lines] == [
        ("Café du Rwanda", 3, 4500, 13500)]
    assert order.customer_phone == "+22670123456"
    assert stock_of("cafe-rwanda") == before - 3
    assert (order.expires_at - order.created_at).total_seconds() == pytest.approx(30 * 60, abs=5)


def test_not_enough_stock_at_checkout(shopper, ctx):
    """F1 (sequential): another buyer took the stock between cart and checkout."""

    shopper.add_to_cart("canari-terre-cuite", 5)
    set_stock("canari-terre-cuite", 2)
    response = shopper.checkout()
    # the cart is re-priced and clamped to the stock left; the order takes what exists
    assert response.status_code == 303
    assert only_order().lines[0].quantity == 2
    assert stock_of("canari-terre-cuite") == 0


def test_customer_details_are_remembered(shopper):
    shopper.add_to_cart("cafe-rwanda")
    shopper.checkout()
    shopper.add_to_cart("savon-noir")
    assert 'value="awa@example.bf"' in shopper.get("/checkout").text
