"""Issue 32: the dashboard's search ignores accents and case (orders by the customer's name or
e-mail, products by name or description), and the customer's phone on the order page calls
or opens WhatsApp."""
from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from core import phones
from extensions import db
from models import Order, Product
from tests.admin.conftest import make_orders, text_of


def _refs(response) -> list[str]:
    return re.findall(r'href="/admin/orders/(CMD-[A-Z0-9]+)"', response.text)


def _customer(order: Order, name: str, email: str = "client@example.bf") -> None:
    order.customer_name, order.customer_email = name, email


@pytest.mark.parametrize("query", ["ouedraogo", "OUEDRAOGO", "Ouédraogo", "ouÉdraogo", "awa ouedraogo",
                                   "ouedr", "Ouedraogo Awa", "  awa   OUÉDRAOGO "])
def test_orders_are_found_by_the_customer_s_name_whatever_the_accents_and_case(admin, query):
    target, *others = make_orders(4)
    _customer(target, "Awa Ouédraogo")
    _customer(others[0], "Awa Kaboré")
    db.session.commit()
    assert _refs(admin.get("/admin/orders", params={"q": query})) == [target.reference]


def test_accented_queries_find_plain_names_and_ligatures_are_spelt_out(admin):
    plain, ligature, other = make_orders(3)
    _customer(plain, "Zenabo OUEDRAOGO")
    _customer(ligature, "Cœur Hélène")
    _customer(other, "Issouf Sawadogo")
    db.session.commit()
    assert _refs(admin.get("/admin/orders", params={"q": "ouédraogo"})) == [plain.reference]
    assert _refs(admin.get("/admin/orders", params={"q": "coeur helene"})) == [ligature.reference]
    assert _refs(admin.get("/admin/orders", params={"q": "awa ouedraogo"})) == []  # every word must match
    assert _refs(admin.get("/admin/orders", params={"q": "%"})) == []  # LIKE's wildcards are literal


def test_part_of_an_e_mail_finds_its_orders_and_the_csv_follows(admin):
    target, other = make_orders(2)
    _customer(target, "Mariam Traoré", "mariam.traore@boutique.bf")
    db.session.commit()
    assert _refs(admin.get("/admin/orders", params={"q": "boutique.bf"})) == [target.reference]
    csv = admin.get("/admin/orders.csv", params={"q": "traore"}).text
    assert target.reference in csv and other.reference not in csv


def test_the_folded_column_follows_an_edit_of_the_customer(ctx):
    order = make_orders(1)[0]
    order.customer_name = "Fatimata ZONGO-Kaboré"
    db.session.commit()
    assert db.session.scalar(select(Order.search_text).where(Order.id == order.id)).startswith(
        "fatimata zongo-kabore ")


def test_migration_0013_folds_the_orders_already_there(app):
    with app.app_context():
        downgrade(revision="0012")
        try:
            db.session.execute(text(
                "INSERT INTO orders (reference, token, checkout_key, currency, subtotal, total, customer_name, "
                "customer_email, customer_phone, language, status, stock_released, created_at, updated_at, "
                "expires_at, delivery_fee, fulfilment_status, delivery_label, delivery_city, delivery_address, "
                "courier, tracking_note) VALUES ('CMD-OLD1', 'tok-old', 'key-old', 'XOF', 1500, 1500, "
                "'Awa Ouédraogo', 'Awa@Example.BF', '+22670123456', 'fr', 'paid', false, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 'not_applicable', '', '', '', '', '')"))
            db.session.commit()
            upgrade()
            assert db.session.scalar(text("SELECT search_text FROM orders WHERE reference = 'CMD-OLD1'")) \
                == "awa ouedraogo awa@example.bf"
        finally:
            db.session.rollback()
            upgrade()
            db.session.execute(text("DELETE FROM orders"))
            db.session.commit()
            db.session.remove()


# products

def _listed(response) -> list[str]:
    return re.findall(r'href="/admin/products/(\d+)"', response.text)


def _id(slug: str) -> str:
    return str(db.session.scalar(select(Product.id).where(Product.slug == slug)))


@pytest.mark.parametrize("query", ["karite brut", "KARITÉ BRUT", "beurre de karité brut", "unrefined SHEA"])
def test_products_are_searched_by_name_or_description_in_either_language(admin, query):
    assert _listed(admin.get("/admin/products", params={"q": query})) == [_id("beurre-de-karite")]


def test_product_search_lists_all_without_a_query_and_says_when_nothing_matches(admin):
    everything = _listed(admin.get("/admin/products"))
    assert len(everything) == db.session.scalar(select(db.func.count()).select_from(Product)) > 3
    assert _listed(admin.get("/admin/products", params={"q": "  "})) == everything
    nothing = admin.get("/admin/products", params={"q": "zzz introuvable"})
    assert nothing.status_code == 200 and _listed(nothing) == []
    assert "No product matches." in text_of(nothing) and 'value="zzz introuvable"' in nothing.text
    assert admin.get("/admin/products", params={"q": "x" * 5000}).status_code == 200


def test_an_inactive_product_is_found_too(admin):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    product.active = False
    db.session.commit()
    assert _id("savon-noir") in _listed(admin.get("/admin/products", params={"q": "savon noir"}))


# the customer's phone on the order page

def test_the_customer_s_phone_calls_or_opens_whatsapp(admin):
    order = make_orders(1)[0]
    order.customer_phone = "+22670123456"
    db.session.commit()
    page = admin.get(f"/admin/orders/{order.reference}").text
    assert '<a href="tel:+22670123456" id="call-customer">+22670123456</a>' in page
    # WhatsApp opens on the customer's number with a message about the order prefilled (issue 28)
    assert re.search(r'<a href="https://wa\.me/22670123456\?text=[^"]*' + order.reference
                     + r'[^"]*" id="whatsapp-customer"[^>]*>WhatsApp</a>', page)


def test_an_order_without_a_phone_offers_no_call(admin):
    order = make_orders(1)[0]
    order.customer_phone = ""
    db.session.commit()
    page = admin.get(f"/admin/orders/{order.reference}").text
    assert "tel:" not in page and "wa.me" not in page


@pytest.mark.parametrize(("stored", "tel", "whatsapp"), [
    ("+22670123456", "tel:+22670123456", "https://wa.me/22670123456"),
    ("+250 788 123 456", "tel:+250788123456", "https://wa.me/250788123456"),
    ("", "", "https://wa.me/"),
])
def test_phone_links(stored, tel, whatsapp):
    assert phones.tel_url(stored) == tel
    assert phones.whatsapp_url(stored) == whatsapp
    assert phones.whatsapp_url(stored, "Bonjour & merci") == whatsapp + "?text=Bonjour%20%26%20merci"
