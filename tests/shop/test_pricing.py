"""XOF and XAF are at par: a product priced only in XOF is sold in XAF at the same amount
(catalogue, product page, cart, order), unless the merchant set an XAF price."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from core.pricing import currencies_for, selling_price
from extensions import db
from models import Price, Product
from shop import catalog
from tests.helpers import only_order, text_of


def _product(slug: str) -> Product:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.slug == slug))


def _only_in(slug: str, currency: str, amount: int) -> Product:
    """Leave ``slug`` with one price."""
    product = _product(slug)
    db.session.execute(delete(Price).where(Price.product_id == product.id))
    db.session.add(Price(product_id=product.id, currency=currency, amount=amount))
    db.session.commit()
    return _product(slug)


def test_currencies_for():
    assert currencies_for("XAF") == ("XAF", "XOF") and currencies_for("XOF") == ("XOF", "XAF")
    assert currencies_for("RWF") == ("RWF",)


@pytest.mark.parametrize("priced,market,sold", [("XOF", "XAF", 3200), ("XAF", "XOF", 3200), ("XOF", "XOF", 3200),
                                               ("XOF", "RWF", None), ("USD", "XAF", None)])
def test_selling_price_at_par(ctx, priced, market, sold):
    assert selling_price(_only_in("beurre-de-karite", priced, 3200), market) == sold


def test_own_xaf_price_wins(ctx):
    product = _only_in("beurre-de-karite", "XOF", 3500)
    product.prices.append(Price(currency="XAF", amount=3700))
    db.session.commit()
    assert selling_price(product, "XAF") == 3700 and selling_price(product, "XOF") == 3500


def test_xof_only_product_listed_and_sold_in_xaf(shopper):
    _only_in("beurre-de-karite", "XOF", 3200)
    shopper.set_market("XAF")
    listed = catalog.products("XAF", query="beurre karite")
    assert [p.slug for p in listed.items] == ["beurre-de-karite"] and listed.total == 1
    assert "3 200" in text_of(shopper.get("/?q=beurre")).replace("\u202f", " ").replace("\xa0", " ")
    assert "3 200" in text_of(shopper.get("/products/beurre-de-karite")).replace("\u202f", " ").replace("\xa0", " ")
    assert shopper.add_to_cart("beurre-de-karite", 2).status_code == 303
    assert shopper.checkout("payunit", phone="+237 6 71 23 45 67").status_code == 303
    order = only_order()
    assert (order.currency, order.total, order.lines[0].unit_price) == ("XAF", 6400, 3200)


def test_cart_repriced_when_the_merchant_sets_an_xaf_price(shopper, ctx):
    _only_in("savon-noir", "XOF", 1500)
    shopper.set_market("XAF")
    shopper.add_to_cart("savon-noir", 2)
    assert "3 000" in text_of(shopper.get("/cart")).replace("\u202f", " ").replace("\xa0", " ")
    product = _product("savon-noir")
    product.prices.append(Price(currency="XAF", amount=1600))
    db.session.commit()
    cart = text_of(shopper.get("/cart")).replace("\u202f", " ").replace("\xa0", " ")
    assert "3 200" in cart and "3 000" not in cart


def test_listing_counts_a_product_priced_in_both_once(ctx):
    page = catalog.products("XAF")
    assert page.total == 14 and len({p.id for p in page.items}) == len(page.items)
    assert all(len(p.prices) <= 2 for p in page.items)  # only the two CFA prices are loaded


def test_not_sold_in_rwf_is_refused_in_the_cart(shopper):
    _only_in("savon-noir", "XOF", 1500)
    shopper.set_market("RWF")
    response = shopper.add_to_cart("savon-noir")
    assert response.status_code == 303 and "not sold in RWF" in text_of(shopper.get("/"))
