"""Hostile input, generated (issue 8): random bodies, headers and content types at every
callback endpoint, random values in every shop form. Never a 500; nothing changes
without a verified outcome."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from extensions import db
from models import Order, Payment, Product
from providers import REGISTRY
from tests.helpers import only_order

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CONTENT_TYPES = st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data",
    "application/json; charset=latin-1", "", "application/xml",
])
FIELD_NAMES = ["status", "custom_data", "transaction_id", "order_id", "reference", "data", "event",
               "amount", "currency", "transactionId", "invoiceNumber", "paymentStatus", "id", "type"]
#: Text with lone surrogates too: json.dumps writes them as "\ud800" escapes, as a hostile sender may.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(FIELD_NAMES) | st.text(max_size=10), children, max_size=5),
    max_leaves=12,
)
HEADERS = st.dictionaries(
    st.sampled_from(["irembopay-signature", "Request-Signature", "Request-Timestamp", "Authorization",
                     "X-Forwarded-For", "Content-Length-Ignored", "User-Agent"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
    | st.sampled_from(["9" * 5000, "t=" + "9" * 5000 + ",s=ab", "t=²,s=ab", "²"]), max_size=3)
#: Nested far past any gateway's shape (and past Python's recursion limit).
DEEP = st.integers(1, 1500).flatmap(lambda n: st.sampled_from([
    b"[" * n + b"]" * n, b'{"a":' * n + b"1" + b"}" * n, b"[" * n]))


@pytest.fixture
def pending_payment(shopper):
    """One real pending payment, so that fuzzed callbacks can name a real reference."""
    shopper.buy()
    return only_order().payments[0]


def snapshot():
    db.session.expire_all()
    return sorted((p.reference, p.status) for p in db.session.scalars(select(Payment))), sorted(
        (o.reference, o.status) for o in db.session.scalars(select(Order)))


@pytest.mark.parametrize("gateway", sorted(REGISTRY))
def test_random_callbacks_never_500_and_change_nothing(client, pending_payment, gateway):
    before = snapshot()
    reference = pending_payment.reference

    @FUZZ
    @given(body=st.binary(max_size=300) | JSONISH.map(lambda v: __import__("json").dumps(v).encode()) | DEEP,
           content_type=CONTENT_TYPES, headers=HEADERS, with_reference=st.booleans(),
           name_ours=st.booleans())
    def fuzz(body, content_type, headers, with_reference, name_ours):
        if name_ours:
            body = body.replace(b"null", f'"{reference}"'.encode(), 1)
        path = f"/payments/callback/{gateway}" + (f"/{reference}" if with_reference else "")
        response = client.post(path, data=body, headers={**headers, "Content-Type": content_type})
        assert response.status_code < 500 or response.status_code == 503, response.data[:300]
        assert response.is_json

    fuzz()
    assert snapshot() == before


def csrf_of(client, path="/"):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).text).group(1)


VALUES = st.one_of(st.text(max_size=30), st.integers(min_value=-10**20, max_value=10**20).map(str),
                   st.sampled_from(["", "0", "-1", "1.5", "1e9", "NaN", "１", "9" * 40, "<script>", "a\x00b",
                                    "\r\nLocation: //evil.example", "/\t/evil.example", "9" * 5000,
                                    "[" * 1000 + "]" * 1000, "9223372036854775808", "\\ud800"]))


def test_random_cart_and_market_posts(client, ctx):
    token = csrf_of(client)
    real_id = str(db.session.scalar(select(Product.id).limit(1)))

    @FUZZ
    @given(path=st.sampled_from(["/cart/add", "/cart/update", "/cart/remove", "/market"]),
           product_id=VALUES | st.just(real_id), quantity=VALUES, currency=VALUES,
           extra=st.dictionaries(st.sampled_from(["price", "total", "amount", "next"]), VALUES, max_size=3))
    def fuzz(path, product_id, quantity, currency, extra):
        data = {"csrf_token": token, "product_id": product_id, "quantity": quantity,
                "currency": currency, **extra}
        response = client.post(path, data=data)
        assert response.status_code in (303, 400), response.data[:300]
        assert client.get("/cart").status_code == 200

    fuzz()
    db.session.expire_all()
    for product in db.session.scalars(select(Product)):
        assert product.stock >= 0


def test_random_checkout_posts(client, ctx):
    token = csrf_of(client)
    product_id = db.session.scalar(select(Product.id).where(Product.slug == "cafe-rwanda"))
    client.post("/cart/add", data={"csrf_token": token, "product_id": product_id, "quantity": 1})
    key = re.search(r'name="checkout_key" type="hidden" value="([^"]+)"', client.get("/checkout").text).group(1)

    @FUZZ
    @given(name=VALUES, email=VALUES | st.emails().map(str), phone=VALUES,
           gateway=st.sampled_from(sorted(REGISTRY)) | VALUES, checkout_key=VALUES | st.just(key),
           extra=st.dictionaries(st.sampled_from(["total", "amount", "currency", "price"]), VALUES, max_size=2))
    def fuzz(name, email, phone, gateway, checkout_key, extra):
        data = {"csrf_token": token, "name": name, "email": email, "phone": phone, "gateway": gateway,
                "checkout_key": checkout_key, **extra}
        response = client.post("/checkout", data=data)
        assert response.status_code < 500, response.data[:300]

    fuzz()
    db.session.expire_all()
    for order in db.session.scalars(select(Order)):
        assert order.currency == "XOF" and order.total == sum(l.line_total for l in order.lines) == 4500


def test_random_find_my_order_posts(client, ctx, app):
    """"Find my order" with any number and phone: a form answer (or 429 past the limit), never a
    500, never an order page for a wrong pair."""
    app.config["FIND_ORDER_RATE_LIMIT"] = "1000 per minute"
    token = csrf_of(client, "/orders/find")

    @FUZZ
    @given(reference=VALUES | st.just("CMD-"), phone=VALUES | st.just("+226 70 12 34 56"))
    def fuzz(reference, phone):
        response = client.post("/orders/find", data={"csrf_token": token, "reference": reference, "phone": phone})
        assert response.status_code in (200, 400), response.data[:300]
        assert "Location" not in response.headers

    fuzz()


#: Percent-encoded query values: bytes that are not UTF-8, NUL, surrogates, huge numbers.
QUERY_VALUES = st.one_of(
    st.binary(max_size=20).map(lambda b: "".join(f"%{x:02X}" for x in b)),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["%00", "%ED%A0%80", "%C0%AF", "9" * 5000, "%0D%0A", "/%09/evil.example"]),
)
PUBLIC_PAGES = ["/", "/cart", "/checkout", "/orders", "/products/cafe-rwanda", "/admin/login"]


def test_random_query_strings_on_public_pages(client, ctx):
    """Whatever a query string holds, the public pages answer without a 5xx."""
    before = snapshot()

    @FUZZ
    @given(path=st.sampled_from(PUBLIC_PAGES), values=st.dictionaries(
        st.sampled_from(["page", "q", "category", "next", "ref", "currency"]), QUERY_VALUES, max_size=4))
    def fuzz(path, values):
        query = "&".join(f"{k}={v}" for k, v in values.items())
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500, (path, query[:200], response.status_code)

    fuzz()
    assert snapshot() == before
