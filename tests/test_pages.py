"""Every public page renders, and unknown ones answer 404 (issue 2)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from extensions import db
from models import Category, Product
from tests.helpers import count_queries, only_order, text_of


def test_catalogue_lists_products_with_prices_and_stock(shopper):
    page = shopper.get("/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Pagne wax 6 yards" in text and "15 000" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Out of stock" in text  # the demo's sold-out pepper


@pytest.mark.parametrize("currency", ["XOF", "XAF", "RWF", "NGN", "USD"])
def test_every_market_renders_in_its_currency(shopper, currency):
    shopper.set_market(currency)
    page = shopper.get("/")
    assert page.status_code == 200
    assert f'<option selected value="{currency}">' in page.text
    assert text_of(page).count("Add to cart") >= 12


def test_prices_are_formatted_per_currency(shopper):
    shopper.set_market("NGN")
    assert "₦35,000.00" in text_of(shopper.get("/products/pagne-wax-6-yards"))
    shopper.set_market("USD")
    assert "$25.00" in text_of(shopper.get("/products/pagne-wax-6-yards"))


def test_every_product_and_category_page_renders(shopper, ctx):
    for slug in db.session.scalars(select(Product.slug)):
        assert shopper.get(f"/products/{slug}").status_code == 200, slug
    for slug in db.session.scalars(select(Category.slug)):
        page = shopper.get(f"/?category={slug}")
        assert page.status_code == 200 and "product-card" in page.text, slug


def test_category_filter_and_search(shopper):
    beauty = text_of(shopper.get("/?category=beaute"))
    assert "Savon noir" in beauty and "Pagne wax" not in beauty
    found = text_of(shopper.get("/?q=karit"))
    assert "Beurre de karité" in found and "Savon noir" in found and "Café" not in found
    assert "No product matches" in text_of(shopper.get("/?q=zzzz%25_"))


def test_product_images_are_served(shopper):
    """The catalogue's pictures come from /media/ (tests/media/test_images.py has the details)."""
    page = shopper.get("/").text
    src = re.search(r'<img src="(/media/[0-9a-f]{32}-640\.jpg)"', page)
    assert src, "no picture on the catalogue"
    response = shopper.get(src.group(1))
    assert response.status_code == 200 and response.content[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("path", ["/cart", "/orders", "/_sim/", "/healthz"])
def test_other_public_pages_render(shopper, path):
    assert shopper.get(path).status_code == 200


def test_checkout_and_order_pages_render(shopper):
    shopper.add_to_cart("cafe-rwanda")
    checkout = shopper.get("/checkout")
    assert checkout.status_code == 200 and 'id="pay"' in checkout.text and "Order summary" in checkout.text
    shopper.checkout()
    order = only_order()
    assert shopper.get(f"/orders/{order.token}").status_code == 200


@pytest.mark.parametrize("path", ["/products/nope", "/?category=nope", "/orders/not-a-token", "/nope"])
def test_unknown_pages_are_404_with_a_friendly_page(shopper, path):
    response = shopper.get(path)
    assert response.status_code == 404
    assert "Back to the shop" in response.text


def test_empty_checkout_sends_back_to_the_cart(shopper):
    response = shopper.get("/checkout", allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].endswith("/cart")


def test_inactive_product_is_hidden(shopper, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    product.active = False
    db.session.commit()
    assert "Savon noir" not in text_of(shopper.get("/"))
    assert shopper.get("/products/savon-noir").status_code == 404


def test_security_headers(shopper):
    response = shopper.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "script-src" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Scripts only from our own static files (the CSP allows nothing else): no inline script.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
    assert scripts and all(re.fullmatch(r' src="/static/js/[\w.-]+\.js" defer', attrs) and not body
                           for attrs, body in scripts), scripts


def _add_products(n: int) -> None:
    from models import Price
    category = db.session.scalar(select(Category).limit(1))
    for i in range(n):
        db.session.add(Product(slug=f"extra-{i}", name=f"Zz extra {i:03d}", stock=5, category=category,
                               prices=[Price(currency="XOF", amount=1000 + i)]))
    db.session.commit()


def test_catalogue_is_paginated(shopper, ctx):
    _add_products(30)
    first = text_of(shopper.get("/"))
    assert "Page 1 Next" in first and "Zz extra 029" not in first  # no COUNT: "next", not "of N"
    second = text_of(shopper.get("/?page=2"))
    assert "Zz extra 029" in second and "Beurre de karité" not in second
    assert "Previous Page 2" in second and "Next" not in second
    beyond = shopper.get("/?page=99")
    assert beyond.status_code == 200 and "No product" in text_of(beyond)


def test_catalogue_statements_do_not_grow_with_products(client, ctx):
    """N+1 guard: the home page costs the same number of SQL statements at 14 and 64 products."""
    small = _statements(client, "/")
    _add_products(50)
    assert _statements(client, "/") == small
    # version, product with category, prices, photos, options, variants, the variants' own prices
    assert _statements(client, "/products/savon-noir") <= 7


def _statements(client, path: str) -> int:
    with count_queries() as seen:
        assert client.get(path).status_code == 200
    return len(seen)


def test_cart_statements_do_not_grow_with_lines(client, ctx):
    """N+1 guard: the cart's thumbnails come in one query for all the lines, not one per line."""
    slugs = ["cafe-rwanda", "savon-noir", "bissap-seche", "beurre-de-karite", "calebasse-decoree"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/").text).group(1)

    def add(slug: str) -> None:
        product_id = db.session.scalar(select(Product.id).where(Product.slug == slug))
        assert client.post("/cart/add", data={"csrf_token": token, "product_id": product_id,
                                              "quantity": 1}).status_code == 303

    add(slugs[0])
    one = _statements(client, "/cart")
    for slug in slugs[1:]:
        add(slug)
    page = client.get("/cart").text
    assert all(f'href="/products/{slug}"' in page for slug in slugs) and page.count("<picture") == 5
    assert _statements(client, "/cart") == one
