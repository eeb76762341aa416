"""Every route under hostile values (issue 15): each GET route with hostile path arguments and
query strings, each POST form with hostile values in every field, signed in as the merchant.
Never a 5xx, and nothing in the database changes. Runs on SQLite and on PostgreSQL
(``TEST_DATABASE_URL``), where NUL bytes and out-of-range integers used to be 500s."""
from __future__ import annotations

import inspect
import re
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

import blueprints.admin.forms
import blueprints.checkout.forms
import blueprints.links.forms
import blueprints.shop.forms
from extensions import db
from links.payment_links import FreeLine, LinkRequest, create_link
from merchant.accounts import save_admin
from models import Order, Payment, PaymentEvent, PaymentLink, Price, Product
from tests.helpers import only_order

#: Already percent-encoded, so that bytes no client library would send reach the app as they are.
HOSTILE = {
    "nul": "%00",
    "nul inside": "a%00b",
    "lone surrogate as UTF-8": "%ED%A0%80",
    "lone surrogate escape": quote("\\ud800"),
    "overlong UTF-8": "%C0%AF",
    "latin-1 byte": "%E9",
    "past 64 bits": "9223372036854775808",
    "past 32 bits": "2147483648",
    "5000 digits": "9" * 5000,
    "negative": "-1",
    "CR/LF": "%0D%0ALocation:%20https://evil.example",
    "tab next": "/%09/evil.example",
    "deep JSON": quote("[" * 1000 + "]" * 1000),
}
QUERY_KEYS = ["page", "q", "category", "ref", "status", "gateway", "currency", "date_from", "date_to",
              "next", "lang", "reference", "token"]
#: Actions a CSRF token alone performs (no field to be hostile in); swept by their path only.
BUTTONS = {"admin.logout", "admin.cancel", "checkout.abandon"}


def _form_fields() -> list[str]:
    names = {"next", "back", "csrf_token_extra"}
    for module in (blueprints.admin.forms, blueprints.checkout.forms, blueprints.shop.forms,
                   blueprints.links.forms):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm):
                names |= {n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField)}
    return sorted(names)


def _snapshot():
    db.session.expire_all()
    return (sorted((o.reference, o.status, o.total) for o in db.session.scalars(select(Order))),
            sorted((p.reference, p.status, p.amount, p.attention_kind, p.attention) for p in db.session.scalars(select(Payment))),
            sorted((p.id, p.stock, p.active, p.name, p.slug) for p in db.session.scalars(select(Product))),
            sorted(db.session.execute(select(Price.product_id, Price.currency, Price.amount)).all()),
            sorted(db.session.execute(select(PaymentLink.code, PaymentLink.status)).all()))


@pytest.fixture
def world(app, shopper):
    """A pending order with a logged payment, a merchant, and a signed-in test client."""
    app.config["STATUS_RECHECK_SECONDS"] = 3600  # the sweep is about our pages, not the gateways
    shopper.buy()
    order = only_order()
    save_admin("sweep@example.com", "a long enough password")
    event = db.session.scalar(select(PaymentEvent).limit(1))
    product = db.session.scalar(select(Product).limit(1))
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/admin/login").text)[1]
    signed_in = client.post("/admin/login", data={"email": "sweep@example.com", "password": "a long enough password",
                                                  "csrf_token": token})
    assert signed_in.status_code == 303
    link = create_link(LinkRequest("XOF", free=[FreeLine("Retouche", 2500)]), actor="sweep@example.com")
    from models import PromoCode
    promo = PromoCode(code="SWEEP10", kind="percent", percent=10, uses=0)
    db.session.add(promo)
    db.session.commit()
    real = {"reference": order.reference, "token": order.token, "slug": product.slug, "product_id": product.id,
            "category_id": product.category_id, "page": "about",
            "code": link.code, "key": _a_photo_key(),
            "payment_id": order.payments[0].id, "id": event.id, "gateway": "ligdicash",
            "filename": "css/shop.css", "job_id": "email-1",
            "promo_id": promo.id}
    return client, token, real


def _a_photo_key() -> str:
    from media.images import variant_key
    from models import ProductImage

    image = db.session.scalar(select(ProductImage).limit(1))
    return variant_key(image.digest, image.width_list[0], "webp")


def _rules(app, method: str):
    return [r for r in app.url_map.iter_rules() if method in r.methods
            and not r.endpoint.startswith(("simulator.", "payments."))]


def _path(rule, values: dict) -> str:
    """The rule's path with ``values`` (already URL-encoded where needed) in its arguments."""
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(values[arg]), path)
    return path


def _hostile_paths(rule, real: dict):
    for name, value in HOSTILE.items():
        for arg in rule.arguments:
            if isinstance(rule._converters[arg], IntegerConverter) and not value.lstrip("-").isdigit():
                continue  # not a number: the route does not even match
            yield name, _path(rule, {**real, arg: value})


def test_every_get_route_with_hostile_paths_and_queries(app, world):
    client, _, real = world
    before = _snapshot()
    checked = 0
    for rule in _rules(app, "GET"):
        urls = [path for _, path in _hostile_paths(rule, real)]
        urls += [_path(rule, real) + "?" + "&".join(f"{k}={v}" for k in QUERY_KEYS) for v in HOSTILE.values()]
        for url in urls:
            response = client.get(url)
            response.close()  # static files are streamed
            assert response.status_code < 500, (url[:200], response.status_code)
            checked += 1
    assert checked > 300
    assert _snapshot() == before


def test_every_form_field_with_hostile_values(app, world):
    client, token, real = world
    fields = _form_fields()
    assert {"email", "password", "price_XOF", "stock", "quantity", "phone", "gateway", "note"} <= set(fields)
    before = _snapshot()
    for rule in _rules(app, "POST"):
        if rule.endpoint in BUTTONS:
            continue
        for name, value in HOSTILE.items():
            body = "&".join([f"csrf_token={token}", *(f"{field}={value}" for field in fields)])
            response = client.post(_path(rule, real), data=body,
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code < 500, (rule.rule, name, response.status_code)
    assert _snapshot() == before


def test_every_post_route_with_hostile_paths(app, world):
    client, token, real = world
    before = _snapshot()
    for rule in _rules(app, "POST"):
        if rule.endpoint == "admin.logout":
            continue
        for name, path in _hostile_paths(rule, real):
            if path == _path(rule, real):
                continue
            response = client.post(path, data={"csrf_token": token})
            assert response.status_code < 500, (path[:200], name, response.status_code)
    assert _snapshot() == before


def test_oversized_posts_get_the_413_page(app, world):
    client, token, real = world
    body = b"csrf_token=" + token.encode() + b"&q=" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for path in ("/cart/add", "/checkout", "/admin/login", f"/admin/orders/{real['reference']}/note"):
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, (path, response.status_code)
