"""The dashboard under hostile input (issue 15): stored payloads of any shape render, `next`
never leaves the site, money and image sizes are bounded with a form error, never a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Order, PaymentEvent, Price, Product
from shop.products import PRICE_MAX_MINOR
from tests.admin.conftest import make_orders, text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/evil.example", "\t/\t/evil.example",
                                    "/\n/evil.example", "/%09/evil.example\t", "/admin/\x00"])
def test_next_with_control_characters_stays_on_the_site(browser, target):
    response = browser.login(next=target)
    assert response.status_code in (303, 400)
    assert response.headers.get("Location", "/admin/") in ("/admin/", "/%09/evil.example")


STORED_PAYLOADS = [
    '{"status": "\\ud800", "note": "\\udfff x"}',  # lone surrogate escapes, as a gateway may send
    "[" * 1000 + "]" * 1000,  # nested past Python's recursion limit
    '{"a": ' * 600 + "1" + "}" * 600,  # deep, but parses
    "not json at all \\ud800 \ufffd",
    "",
]


def test_the_order_page_renders_any_stored_payload(admin, ctx):
    """Payloads logged before the callback checks existed must not break the order page."""
    order = make_orders(1)[0]
    payment = order.payments[0]
    for payload in STORED_PAYLOADS:
        db.session.add(PaymentEvent(payment_id=payment.id, order_id=order.id, gateway="ligdicash",
                                    kind="callback", payload=payload, note="rejected: test"))
        db.session.add(PaymentEvent(gateway="ligdicash", kind="callback", payload=payload,
                                    note="rejected: bad signature"))
    db.session.commit()
    page = admin.get(f"/admin/orders/{order.reference}")
    assert page.status_code == 200
    assert "\\ud800" in page.text
    assert admin.get("/admin/attention").status_code == 200


def _form(**fields) -> dict:
    return {"name": "Sac en raphia", "slug": "", "description": "", "category_id": "", "stock": "3",
            "stock_seen": "", "active": "y", "irembopay_product_code": "", "price_XOF": "1500", **fields}


def _counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Product)),
            sorted(db.session.execute(select(Price.product_id, Price.currency, Price.amount)).all()))


@pytest.mark.parametrize("field,value", [
    ("price_XOF", str(PRICE_MAX_MINOR + 1)), ("price_XOF", "9" * 19), ("price_USD", "10000000000.01"),
    ("price_XOF", "1e400"), ("price_NGN", "9223372036854775808"), ("stock", "2147483648"),
    ("stock", "9" * 5000), ("price_XOF", "1\x00"),
])
def test_amounts_past_the_bounds_are_a_form_error(admin, field, value):
    before = _counts()
    response = admin.post("/admin/products/new", _form(**{field: value}), csrf_from="/admin/products/new")
    assert response.status_code == 400, text_of(response)[:300]
    assert _counts() == before


def test_the_highest_price_is_named_in_the_error(admin):
    response = admin.post("/admin/products/new", _form(price_XOF=str(PRICE_MAX_MINOR + 1)),
                          csrf_from="/admin/products/new")
    assert "at most 1,000,000,000,000 XOF" in text_of(response)


def test_a_price_past_32_bits_is_saved_and_sold_exactly(admin, shopper):
    """999,999,999,999 XOF: stored in a 64-bit column and ordered to the franc; LigdiCash (whose
    invoices stop at 2,000,000 XOF) refuses it, and the customer is told so, not a 500."""
    response = admin.post("/admin/products/new", _form(price_XOF="999999999999", stock="3"),
                          csrf_from="/admin/products/new")
    assert response.status_code == 303, text_of(response)[:300]
    product = db.session.scalar(select(Product).where(Product.name == "Sac en raphia"))
    assert product.price_in("XOF").amount == 999_999_999_999
    shopper.add_to_cart(product.slug, 2)
    refused = shopper.checkout()
    assert refused.status_code == 502 and "could not open the payment" in text_of(refused)
    order = db.session.scalar(select(Order).order_by(Order.id.desc()))
    assert order.total == 2 * 999_999_999_999 + order.delivery_fee and order.payments[0].amount == order.total
    assert "1 999 999 999 998" in text_of(admin.get(f"/admin/orders/{order.reference}")).replace("\u202f", " ")


def test_a_tampered_stock_seen_is_ignored(admin):
    product = db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda"))
    stock = product.stock
    for seen in ("9" * 5000, "²", "-5", "99999999999"):
        data = _form(name=product.name, slug=product.slug, stock=str(stock), stock_seen=seen)
        response = admin.post(f"/admin/products/{product.id}", data, csrf_from=f"/admin/products/{product.id}")
        assert response.status_code == 303, text_of(response)[:300]
        db.session.expire_all()
        assert product.stock == stock


def test_stock_cannot_be_pushed_past_its_bound_by_edits(admin):
    """Edits move stock by a difference: a stale (or tampered) form must not add up past the bound."""
    product = db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda"))
    stock = product.stock
    data = _form(name=product.name, slug=product.slug, stock="1000000", stock_seen="0")
    response = admin.post(f"/admin/products/{product.id}", data, csrf_from=f"/admin/products/{product.id}")
    assert response.status_code == 400 and "at most 1,000,000" in text_of(response)
    db.session.expire_all()
    assert product.stock == stock


def _photo_of(size: int) -> bytes:
    """A real JPEG padded to ``size`` bytes (decoders stop at its end marker)."""
    from tests.media.test_images import photo

    data = photo(800, 600)
    return data + b"\x00" * (size - len(data))


def test_a_photo_under_the_documented_limit_is_accepted(admin, app):
    """Just under PRODUCT_IMAGE_MAX_BYTES: saved, not a 413 or a 500."""
    limit = app.config["PRODUCT_IMAGE_MAX_BYTES"]
    token = admin.csrf("/admin/products/new")
    response = admin.http.post(admin.base_url + "/admin/products/new", data={**_form(), "csrf_token": token},
                               files={"images": ("big.jpg", _photo_of(limit - 64 * 1024), "image/jpeg")},
                               allow_redirects=False, timeout=60)
    assert response.status_code == 303, text_of(response)[:300]


@pytest.mark.parametrize("over_kb,status", [(8, 400), (200, 413)])
def test_a_photo_over_the_limit_gets_a_page_naming_it(admin, app, over_kb, status):
    limit = app.config["PRODUCT_IMAGE_MAX_BYTES"]
    token = admin.csrf("/admin/products/new")
    before = _counts()
    response = admin.http.post(admin.base_url + "/admin/products/new", data={**_form(), "csrf_token": token},
                               files={"images": ("big.jpg", _photo_of(limit + over_kb * 1024), "image/jpeg")},
                               allow_redirects=False, timeout=60)
    assert response.status_code == status
    assert f"{limit // 1024} KB" in text_of(response) or f"{limit // (1024 * 1024)} MB" in text_of(response)
    assert _counts() == before


REFUND_VALUES = ["", "0", "-1", "1.5", "1e9", "NaN", "１", "9" * 40, "<script>", "9223372036854775808",
                 "1,5", " 100 ", "100.000", "\u00a0100", "1" * 5000]


@pytest.mark.parametrize("value", REFUND_VALUES)
def test_hostile_refund_amounts_and_quantities_are_form_errors(admin, ctx, value):
    """Issue 28: whatever is typed as an amount or a quantity, a message and nothing refunded
    beyond what was received; never a 500."""
    order = make_orders(1, status="paid", payment_status="succeeded")[0]
    db.session.execute(Order.__table__.update().where(Order.id == order.id).values(amount_received=1500))
    db.session.commit()
    page = f"/admin/orders/{order.reference}"
    line = order.lines[0].id
    for data in ({"amount": value, "method": "cash"}, {f"qty-{line}": value, "method": "cash"},
                 {"amount": "100", "method": value}, {"full": value, "method": "cash"}):
        response = admin.post(page + "/refund", data, csrf_from=page)
        assert response.status_code == 303, (data, response.status_code)
        assert admin.get(response.headers["Location"]).status_code == 200
    db.session.expire_all()
    assert 0 <= order.amount_refunded <= order.amount_received == 1500
