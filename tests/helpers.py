"""Shopper: a customer's browser driven over real HTTP (requests), with the
action helpers the tests repeat (cart, checkout, paying on the gateway's page)."""
from __future__ import annotations

import os
import re
import tomllib
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import event, func, select

from extensions import db
from models import Order, Payment, PaymentEvent, Product

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CHECKOUT_KEY = re.compile(r'id="checkout_key" name="checkout_key" type="hidden" value="([^"]+)"')
#: The delivery option checked by default on the checkout page (the market's first pickup point).
CHECKED_DELIVERY = re.compile(r'<input checked [^>]*name="delivery" type="radio" value="([^"]+)"')
CUSTOMER = {"name": "Awa Ouédraogo", "email": "awa@example.bf", "phone": "+226 70 12 34 56"}

ROOT = Path(__file__).resolve().parents[1]
#: The suite's Redis (CI: db 13 of the local one); the tests that need one skip without it.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
#: The import contracts of pyproject.toml ([tool.importlinter]): the packages and their layers.
IMPORT_CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
#: The domain packages (the rooms): every package of the contracts but the ones that face the
#: outside (the HTTP blueprints, the CLI commands, the simulator and the gateways' providers).
DOMAIN = tuple(p for p in IMPORT_CONTRACTS["root_packages"]
               if p not in ("blueprints", "commands", "simulator", "providers"))


class Shopper:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def __enter__(self) -> Shopper:
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/")) if not path.startswith("http") else path

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.http.get(self.url(path), **kwargs)

    def csrf_token(self, path: str = "/") -> str:
        match = CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, *, csrf_from: str = "/",
             follow: bool = False, csrf: bool = True) -> requests.Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token(csrf_from))
        return self.http.post(self.url(path), data=data, allow_redirects=follow, timeout=15)

    # cart
    def add_to_cart(self, slug: str, quantity: int = 1, **extra) -> requests.Response:
        product_id = db.session.scalar(select(Product.id).where(Product.slug == slug))
        return self.post("/cart/add", {"product_id": product_id, "quantity": quantity, **extra})

    def set_market(self, currency: str) -> requests.Response:
        return self.post("/market", {"currency": currency})

    # checkout
    def checkout_form(self, required: bool = True) -> tuple[str, str]:
        """The checkout page's key and its preselected delivery choice ("" when none)."""
        page = self.get("/checkout").text
        match = CHECKOUT_KEY.search(page)
        assert match or not required, "no checkout form"
        delivery = CHECKED_DELIVERY.search(page)
        return match.group(1) if match else "", delivery.group(1) if delivery else ""

    def checkout_key(self) -> str:
        return self.checkout_form()[0]

    def checkout(self, gateway: str = "ligdicash", key: str | None = None, **fields) -> requests.Response:
        """Check out with the customer's details and the preselected delivery (free pickup)
        unless ``delivery`` (and its address fields) are given."""
        page_key, delivery = self.checkout_form(required=key is None)
        data = {**CUSTOMER, "gateway": gateway, "checkout_key": key or page_key, "delivery": delivery, **fields}
        return self.post("/checkout", data, csrf_from="/cart")

    def buy(self, slug: str = "pagne-wax-6-yards", quantity: int = 1, **fields) -> requests.Response:
        """Add one product and check out; returns the 303 to the gateway."""
        self.add_to_cart(slug, quantity)
        return self.checkout(**fields)

    def on_gateway_page(self, redirect: requests.Response, action: str = "pay",
                        phone: str = "22670000000") -> requests.Response:
        """On the simulated gateway's page, pay / decline / cancel; follow back to the shop."""
        assert redirect.status_code == 303, redirect.text[:500]
        page = redirect.headers["Location"]
        assert self.get(page).status_code == 200
        return self.http.post(page, data={"action": action, "phone": phone}, timeout=15)


def text_of(response: requests.Response) -> str:
    """The page's visible text, roughly: tags stripped, entities decoded."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def only_order() -> Order:
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 1, f"expected one order, found {len(orders)}"
    return orders[0]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def events(payment: Payment, kind: str | None = None) -> list[PaymentEvent]:
    db.session.expire_all()
    stmt = select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id)
    if kind:
        stmt = stmt.where(PaymentEvent.kind == kind)
    return list(db.session.scalars(stmt))


def transitions(payment: Payment, to: str) -> list[PaymentEvent]:
    """The logged moves of ``payment`` (and of its order, made by it) to status ``to``."""
    return [e for e in events(payment, "transition") if e.status_after == to]


def set_stock(slug: str, units: int) -> None:
    """Give a product without options ``units`` in stock (its default variant, and its total)."""
    product = db.session.scalar(select(Product).where(Product.slug == slug))
    (variant,) = product.variants
    variant.stock = units
    product.stock = units
    db.session.commit()


def stock_of(slug: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Product.stock).where(Product.slug == slug))


def let_pacing_pass() -> None:
    """Move every payment's last status check an hour back, as if the gateways' pacing
    window (LigdiCash: 3 s between two confirm calls, payments/pacing.py) had passed."""
    from datetime import timedelta

    from sqlalchemy import update

    db.session.expire_all()
    for payment in db.session.scalars(select(Payment).where(Payment.last_checked_at.is_not(None))):
        db.session.execute(update(Payment).where(Payment.id == payment.id).values(
            last_checked_at=payment.last_checked_at - timedelta(hours=1), updated_at=payment.updated_at))
    db.session.commit()


@contextmanager
def count_queries():
    """Count the SQL statements sent while the block runs."""
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def redis_or_skip():
    """A client of the suite's Redis (``REDIS_URL``); the test is skipped when none answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    return client


def forget_redis_keys(client, marker: str) -> None:
    """Delete a test's keys: its queue's or prefix's, all holding ``marker``."""
    for key in client.scan_iter(f"*{marker}*"):
        client.delete(key)
