"""Variants (issue 26): a product sold in several combinations, each with its own stock and
sometimes its own price, over real HTTP: the product page, the cart, the order, the gateway's
line items, the e-mails, stock held and given back per variant, the low-stock e-mail, the
merchant's variants page, and the link previews (Open Graph)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from extensions import db
from mail import outbox as mail
from models import OutboxEmail, Product, Variant, utcnow
from orders.lifecycle import expire_order
from simulator.state import STATE
from tests.helpers import only_order, text_of

SLUG = "kitenge-chemise"  # the demo's shirt: Taille S 3, M 5, L 6, XL 4, XXL 0 (its own, higher price)


def shirt() -> Product:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.slug == SLUG))


def size(name: str) -> Variant:
    return next(v for v in shirt().variants if v.option1 == name)


def add(shopper, variant: Variant | None, quantity: int = 1):
    extra = {"variant_id": variant.id} if variant is not None else {}
    return shopper.add_to_cart(SLUG, quantity, **extra)


def test_the_product_page_lists_every_combination_and_the_sold_out_one_cannot_be_picked(shopper, ctx):
    page = shopper.get(f"/products/{SLUG}").text
    radios = re.findall(r'<input type="radio" name="variant_id" value="(\d+)"([^>]*)>', page)
    assert [int(v) for v, _ in radios] == [v.id for v in shirt().variants]
    attributes = {int(v): rest for v, rest in radios}
    assert "disabled" in attributes[size("XXL").id] and "checked" not in attributes[size("XXL").id]
    assert "checked" in attributes[size("S").id]  # the first in stock is preselected
    text = text_of(shopper.get(f"/products/{SLUG}"))
    assert "Size" in text and "Taille" not in text and "XXL" in text and "Sold out" in text


def test_the_option_is_named_in_the_customer_s_language(shopper, ctx):
    """The merchant named the option "Taille" and, for English-speaking customers, "Size"."""
    english = re.search(r"<legend>([^<]*)</legend>", shopper.get(f"/products/{SLUG}").text).group(1)
    shopper.http.headers["Accept-Language"] = "fr-FR"
    french = re.search(r"<legend>([^<]*)</legend>", shopper.get(f"/products/{SLUG}").text).group(1)
    assert (english, french) == ("Size", "Taille")
    option = shirt().options[0]
    option.name_en = None  # none given: the one name everywhere
    db.session.commit()
    del shopper.http.headers["Accept-Language"]
    assert re.search(r"<legend>([^<]*)</legend>", shopper.get(f"/products/{SLUG}").text).group(1) == "Taille"


def test_a_variant_has_its_own_link_price_and_stock(shopper, ctx):
    xxl = size("XXL")
    xxl.stock, xxl.product.stock = 2, xxl.product.stock + 2
    db.session.commit()
    page = text_of(shopper.get(f"/products/{SLUG}?variant={xxl.id}"))
    assert "13 500" in page and "2 in stock" in page  # XXL's own price, XXL's own stock
    assert "12 000" in text_of(shopper.get(f"/products/{SLUG}?variant={size('M').id}"))
    # an unknown or foreign variant, or extra parameters: one canonical address (nothing made-up is cached)
    other = db.session.scalar(select(Variant).join(Product).where(Product.slug == "savon-noir"))
    for query in (f"variant={other.id}", "variant=abc", f"variant={xxl.id}&x=1"):
        response = shopper.get(f"/products/{SLUG}?{query}", allow_redirects=False)
        assert response.status_code == 301
    assert shopper.get(f"/products/{SLUG}?variant={xxl.id}&x=1",
                       allow_redirects=False).headers["Location"].endswith(f"?variant={xxl.id}")


def test_a_product_with_options_cannot_be_added_without_choosing(shopper, ctx):
    response = add(shopper, None)
    assert response.status_code == 303
    assert "Choose Taille first" in text_of(shopper.get(f"/products/{SLUG}"))
    assert "Your cart is empty" in text_of(shopper.get("/cart"))


def test_a_sold_out_combination_is_refused_even_when_posted(shopper, ctx):
    add(shopper, size("XXL"))
    assert "Chemise kitenge (XXL) is out of stock" in text_of(shopper.get(f"/products/{SLUG}"))
    assert "Your cart is empty" in text_of(shopper.get("/cart"))


def test_a_variant_of_another_product_is_refused(shopper, ctx):
    savon = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    shopper.post("/cart/add", {"product_id": savon.id, "variant_id": size("M").id, "quantity": 1})
    assert "Your cart is empty" in text_of(shopper.get("/cart"))


def test_the_variant_is_named_from_cart_to_gateway_and_receipt_and_its_stock_is_held(shopper, ctx):
    product_stock, medium = shirt().stock, size("M")
    add(shopper, medium, 2)
    add(shopper, size("L"), 1)
    cart = text_of(shopper.get("/cart"))
    assert "Chemise kitenge M" in cart and "Chemise kitenge L" in cart
    redirect = shopper.checkout()
    order = only_order()
    assert sorted((line.variant_name, line.quantity) for line in order.lines) == [("L", 1), ("M", 2)]
    assert {line.full_name for line in order.lines} == {"Chemise kitenge (M)", "Chemise kitenge (L)"}
    assert size("M").stock == 3 and size("L").stock == 5 and shirt().stock == product_stock - 3
    invoice = next(iter(STATE.invoices.values()))  # LigdiCash: the items the customer sees there
    items = invoice.request["commande"]["invoice"]["items"]
    assert sorted(i["name"] for i in items if "kitenge" in i["name"]) == ["Chemise kitenge (L)",
                                                                            "Chemise kitenge (M)"]
    assert sum(i["total_price"] for i in items) == order.total  # XOF: whole units are minor units
    shopper.on_gateway_page(redirect)
    receipt = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "receipt"))
    assert "Chemise kitenge (M)" in receipt.body_text
    assert "Chemise kitenge (M)" in text_of(shopper.get(f"/orders/{order.token}"))


def test_an_expired_order_gives_back_each_variant_once(shopper, ctx):
    add(shopper, size("XL"), 4)
    shopper.checkout()
    assert size("XL").stock == 0
    assert "Sold out" in text_of(shopper.get(f"/products/{SLUG}?variant={size('XL').id}"))
    order = only_order()
    assert expire_order(order, now=utcnow() + timedelta(hours=2))
    assert not expire_order(order, now=utcnow() + timedelta(hours=3))  # once
    assert size("XL").stock == 4 and size("M").stock == 5


def test_the_merchant_gets_one_low_stock_email_per_crossing_not_one_per_order(shopper, app, ctx):
    app.config["MERCHANT_EMAIL"] = "owner@example.bf"
    low = lambda: list(db.session.scalars(  # noqa: E731
        select(OutboxEmail).where(OutboxEmail.kind == "merchant_low_stock")))
    add(shopper, size("L"), 2)   # 6 → 4: above the threshold (3)
    shopper.checkout()
    assert low() == []
    with type(shopper)(shopper.base_url) as second:
        add(second, size("L"), 1)   # 4 → 3: at the threshold
        second.checkout()
    emails = low()
    assert len(emails) == 1 and emails[0].to_address == "owner@example.bf"
    assert "Chemise kitenge (L)" in emails[0].body_text and "3" in emails[0].body_text
    with type(shopper)(shopper.base_url) as third:
        add(third, size("L"), 1)    # 3 → 2: still low, no second e-mail
        third.checkout()
    assert len(low()) == 1


def test_link_previews_carry_absolute_photo_title_price_and_description(shopper, base_url, ctx):
    page = shopper.get("/products/pagne-wax-6-yards").text
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', page))
    assert meta["og:image"].startswith(base_url + "/") and meta["og:image"].endswith(".jpg")
    assert shopper.get(meta["og:image"]).headers["Content-Type"] == "image/jpeg"
    assert meta["og:title"].startswith("Pagne wax 6 yards — 15") and meta["product:price:currency"] == "XOF"
    assert meta["product:price:amount"] == "15000" and meta["og:url"] == f"{base_url}/products/pagne-wax-6-yards"
    assert meta["twitter:card"] == "summary_large_image" and "cotton" in meta["og:description"]
    assert 'href="https://wa.me/?text=' in page  # Share on WhatsApp
    category = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"',
                               shopper.get("/?category=textiles").text))
    assert category["og:title"] == "Wax prints &amp; textiles" and category["og:image"].startswith(base_url)


def test_the_low_stock_email_is_sent_once(shopper, app, ctx):
    app.config["MERCHANT_EMAIL"] = "owner@example.bf"
    mail.MEMORY.clear()
    add(shopper, size("M"), 3)   # 5 → 2
    shopper.checkout()
    with app.app_context():
        mail.deliver()
        mail.deliver()
    assert sum(m["Subject"].startswith("Low stock: Chemise kitenge") for m in mail.MEMORY) == 1
