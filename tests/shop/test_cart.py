"""The cart: add, change, remove, bounds, and prices only from the database (issue 2, E1–E3)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from extensions import db
from models import Price, Product
from tests.helpers import text_of


def cart_quantities(shopper) -> dict[str, int]:
    html = shopper.get("/cart").text
    return {name: int(qty) for name, qty in re.findall(
        r'for="qty-\d+">Quantity of ([^<]+)</label>\s*<input[^>]*value="(\d+)"', html)}


def test_add_change_and_remove(shopper):
    response = shopper.add_to_cart("savon-noir", 2)
    assert response.status_code == 303
    assert cart_quantities(shopper) == {"Savon noir traditionnel": 2}
    pid = db.session.scalar(select(Product.id).where(Product.slug == "savon-noir"))
    shopper.post("/cart/update", {"product_id": pid, "quantity": 5})
    assert cart_quantities(shopper) == {"Savon noir traditionnel": 5}
    assert "7 500" in text_of(shopper.get("/cart")).replace("\u202f", " ").replace("\xa0", " ")
    shopper.post("/cart/remove", {"product_id": pid})
    assert cart_quantities(shopper) == {}


def test_adding_twice_adds_up(shopper):
    shopper.add_to_cart("savon-noir", 1)
    shopper.add_to_cart("savon-noir", 2)
    assert cart_quantities(shopper) == {"Savon noir traditionnel": 3}


def test_quantity_bounded_by_stock_and_maximum(shopper, ctx):
    """E2: more than the stock, or than CART_MAX_QUANTITY, is refused with a message."""
    product = db.session.scalar(select(Product).where(Product.slug == "canari-terre-cuite"))
    assert product.stock == 8
    page = shopper.post("/cart/add", {"product_id": product.id, "quantity": 9}, follow=True)
    assert "at most 8" in text_of(page)
    assert cart_quantities(shopper) == {}
    page = shopper.post("/cart/add", {"product_id": db.session.scalar(
        select(Product.id).where(Product.slug == "savon-noir")), "quantity": 11}, follow=True)
    assert "at most 10" in text_of(page)


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "", "99999999999999999999"])
def test_bad_quantities_change_nothing(shopper, quantity):
    pid = db.session.scalar(select(Product.id).where(Product.slug == "savon-noir"))
    page = shopper.post("/cart/add", {"product_id": pid, "quantity": quantity}, follow=True)
    assert page.status_code == 200
    assert cart_quantities(shopper) == {}


@pytest.mark.parametrize("product_id", ["999999", "abc", "", "-1", "1e3"])
def test_unknown_products_change_nothing(shopper, product_id):
    """E3: unknown ids get a message, never a 500."""
    page = shopper.post("/cart/add", {"product_id": product_id, "quantity": 1}, follow=True)
    assert page.status_code == 200
    assert cart_quantities(shopper) == {}


def test_out_of_stock_cannot_be_added(shopper):
    page = shopper.post("/cart/add", {"product_id": db.session.scalar(
        select(Product.id).where(Product.slug == "poivre-penja")), "quantity": 1}, follow=True)
    assert "out of stock" in text_of(page)


def test_total_is_recomputed_from_the_database(shopper, ctx):
    """E1: the cart shows today's database price, whatever was shown before."""
    shopper.add_to_cart("savon-noir", 2, price="1", total="1")
    price = db.session.scalar(select(Price).join(Product).where(
        Product.slug == "savon-noir", Price.currency == "XOF"))
    price.amount = 2000
    db.session.commit()
    total = re.search(r'id="cart-total">([^<]+)<', shopper.get("/cart").text).group(1)
    assert total.replace("\u202f", " ").replace("\xa0", " ") == "4 000 F CFA"


def test_switching_market_reprices_the_cart(shopper):
    shopper.add_to_cart("savon-noir", 2)
    shopper.set_market("USD")
    total = re.search(r'id="cart-total">([^<]+)<', shopper.get("/cart").text).group(1)
    assert total == "$5.00"


def test_cart_posts_need_csrf(shopper):
    """H1: no CSRF token → 400 and nothing changes."""
    pid = db.session.scalar(select(Product.id).where(Product.slug == "savon-noir"))
    response = shopper.post("/cart/add", {"product_id": pid, "quantity": 1}, csrf=False)
    assert response.status_code == 400
    assert "form has expired" in text_of(response)
    assert cart_quantities(shopper) == {}


def test_unknown_market_is_refused(shopper):
    page = shopper.post("/market", {"currency": "EUR"}, follow=True)
    assert "Unknown market" in text_of(page)
    assert '<option selected value="XOF">' in page.text
