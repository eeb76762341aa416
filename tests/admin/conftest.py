"""Dashboard fixtures: a merchant account, a signed-in browser (Flask test client
with real CSRF tokens), orders made through the real services, SQL counting."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import requests
from sqlalchemy import select

from core.references import new_reference
from extensions import db, limiter
from merchant.accounts import save_admin
from models import Order, OrderLine, Payment, Product, utcnow

EMAIL = "merchant@example.com"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class AdminActions:
    """A merchant's browser on the dashboard, over real HTTP to the live server (so each
    request has its own app context and database session, as in production)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(self.base_url + path, timeout=30, **kwargs)

    def csrf(self, path: str = "/admin/login") -> str:
        match = CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, csrf_from: str = "/admin/", **kwargs):
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf(csrf_from)
        return self.http.post(self.base_url + path, data=data, allow_redirects=False, timeout=30, **kwargs)

    def login(self, email: str = EMAIL, password: str = PASSWORD, next: str = ""):
        return self.post("/admin/login", {"email": email, "password": password, "next": next},
                         csrf_from="/admin/login")


def text_of(response) -> str:
    """A page's visible text, roughly."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


@pytest.fixture(autouse=True)
def reset_rate_limits(app):
    """Rate-limit counters are per test, like the database."""
    with app.app_context():
        limiter.reset()
    yield


@pytest.fixture
def merchant(ctx):
    admin, _ = save_admin(EMAIL, PASSWORD)
    return admin


@pytest.fixture
def browser(base_url, merchant) -> AdminActions:
    """A merchant's browser, not signed in yet."""
    actions = AdminActions(base_url)
    yield actions
    actions.http.close()


@pytest.fixture
def admin(browser) -> AdminActions:
    """A signed-in merchant's browser."""
    response = browser.login()
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return browser


def make_orders(n: int, *, currency: str = "XOF", status: str = "pending", gateway: str = "ligdicash",
                payment_status: str = "pending", created_at=None, email: str | None = None) -> list[Order]:
    """``n`` orders with one line and one payment each, straight into the database (for volume)."""
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    now = created_at or utcnow()
    orders = []
    for i in range(n):
        order = Order(
            reference=new_reference("CMD"), token=new_reference("T", 30), checkout_key=new_reference("K", 30),
            currency=currency, subtotal=1500, total=1500, customer_name=f"Client {i}",
            customer_email=email or f"client{i}@example.com", customer_phone=f"+2267000{i:04d}",
            status=status, created_at=now - timedelta(seconds=i), expires_at=now + timedelta(minutes=30),
            paid_at=now if status == "paid" else None,
            lines=[OrderLine(product_id=product.id, name=product.name, unit_price=1500, quantity=1, line_total=1500)],
        )
        order.payments.append(Payment(reference=new_reference("PAY", 12), gateway=gateway, status=payment_status,
                                      amount=1500, currency=currency, gateway_ref=f"GW-{i}-{order.reference}",
                                      created_at=now - timedelta(seconds=i)))
        orders.append(order)
    db.session.add_all(orders)
    db.session.commit()
    return orders

