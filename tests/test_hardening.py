"""Hardening (issue 8): secrets kept out of logs, headers, cookies, proxies, health."""
from __future__ import annotations

import json
import logging
import re
import time

import pytest
import requests
from sqlalchemy import select

from app import create_app
from core.redaction import scrub
from core.redirects import local_path
from extensions import db
from models import Order, Payment, PaymentEvent
from providers import REGISTRY
from simulator import SIM_CREDENTIALS
from tests.helpers import only_order


def test_gateway_credentials_never_reach_a_log_line(app, caplog):
    key = SIM_CREDENTIALS["ligdicash"]["api_key"]
    with caplog.at_level(logging.INFO):
        logging.getLogger("payments.attempts").warning("calling with %s and %s", key, "Bearer abc.def-123")
        logging.getLogger("somewhere").info("headers={'Authorization': 'Basic dXNlcjpwYXNz'}")
        logging.getLogger("x").error("irembopay-secretKey: %s", "sk_live_123456789")
    text = caplog.text
    for secret in (key, "abc.def-123", "dXNlcjpwYXNz", "sk_live_123456789"):
        assert secret not in text
    assert text.count("***") >= 4


def test_scrub_leaves_ordinary_text_alone():
    assert scrub("order CMD-7KQ2M9XW4T paid by PAY-ABC") == "order CMD-7KQ2M9XW4T paid by PAY-ABC"
    assert scrub("api_key=supersecretvalue&x=1") == "api_key=***&x=1"


def test_secret_key_is_scrubbed(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("leaked %s", app.config["SECRET_KEY"])
    assert app.config["SECRET_KEY"] not in caplog.text


def test_production_cookies_and_hsts(monkeypatch):
    """I2/I3: Secure, HttpOnly, SameSite=Lax session cookie; HSTS; the scheme from the router."""
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/comptoir-prod-check.db")
    monkeypatch.setenv("COMPTOIR_ENV", "production")
    app = create_app({ "SECRET_KEY": "s" * 32, "SIMULATOR_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/comptoir-prod-check.db"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    client = app.test_client()
    response = client.get("/nope", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_error_pages_are_generic(client):
    """I6: no stack trace, no framework banner."""
    response = client.get("/orders/" + "x" * 65)
    assert response.status_code == 404
    assert b"Traceback" not in response.data and b"Werkzeug" not in response.data


# issue 15: no 500, anywhere ---------------------------------------------------------------

def _callback_url(base_url: str, gateway: str, reference: str | None = None) -> str:
    return f"{base_url}/payments/callback/{gateway}" + (f"/{reference}" if reference else "")


def _statuses():
    db.session.expire_all()
    return (sorted((p.reference, p.status) for p in db.session.scalars(select(Payment))),
            sorted((o.reference, o.status) for o in db.session.scalars(select(Order))))


def _rejected() -> list[PaymentEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(PaymentEvent).where(
        PaymentEvent.kind == "callback", PaymentEvent.note.startswith("rejected"))))


@pytest.fixture
def paying(shopper):
    """A real pending payment whose reference hostile callbacks can name."""
    shopper.buy()
    return only_order().payments[0]


HOSTILE_BODIES = {
    "lone surrogate": '{"reference": "{ref}", "data": {"reference": "{ref}", "status": "\\ud800"}, '
                      '"transaction_id": "{ref}", "status": "completed", "note": "\\udfff"}',
    "deep nesting": "[" * 1000 + "]" * 1000,
    "deep object": '{"data": ' * 800 + '"{ref}"' + "}" * 800,
}


@pytest.mark.parametrize("gateway", sorted(REGISTRY))
@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_unreadable_json_callbacks_are_400_logged_and_change_nothing(base_url, paying, gateway, kind):
    before = _statuses()
    body = HOSTILE_BODIES[kind].replace("{ref}", paying.reference)
    for reference in (None, paying.reference):
        response = requests.post(_callback_url(base_url, gateway, reference), data=body.encode(),
                                 headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 400, response.text[:300]
        assert response.json()["error"].startswith("malformed callback")
    assert _statuses() == before
    assert len(_rejected()) == 2


@pytest.mark.parametrize("gateway,headers", [
    ("irembopay", lambda: {"irembopay-signature": f"t={int(time.time() * 1000)},s=é".encode()}),
    ("irembopay", lambda: {"irembopay-signature": "t=²,s=ab".encode()}),
    ("irembopay", lambda: {"irembopay-signature": "t=" + "9" * 5000 + ",s=ab"}),
    ("paycashless", lambda: {"Request-Signature": "é".encode(), "Request-Timestamp": str(int(time.time()))}),
    ("paycashless", lambda: {"Request-Signature": "ab", "Request-Timestamp": "²".encode()}),
    ("paycashless", lambda: {"Request-Signature": "ab", "Request-Timestamp": "9" * 5000}),
])
def test_unreadable_signature_headers_are_400(base_url, paying, gateway, headers):
    before = _statuses()
    body = {"reference": paying.reference, "data": {"reference": paying.reference, "status": "PAID"},
            "event": "INVOICE_PAID", "transactionId": paying.reference, "paymentStatus": "PAID"}
    response = requests.post(_callback_url(base_url, gateway, paying.reference), json=body,
                             headers=headers(), timeout=10)
    assert response.status_code == 400 and response.json()["error"].endswith(("not ASCII", "too long"))
    assert _statuses() == before and len(_rejected()) == 1


def _chunks(size: int, chunk: int = 8192):
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


def test_a_chunked_callback_over_the_limit_is_413_not_cut(base_url, app, ctx):
    limit = app.config["CALLBACK_MAX_BYTES"]
    response = requests.post(_callback_url(base_url, "ligdicash"), data=_chunks(limit + 10_000),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413
    assert _rejected() == []  # refused whole: nothing of it was read as a callback


def test_a_small_chunked_callback_is_read(base_url, ctx):
    body = json.dumps({"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": "PAY-NOBODY"}]}).encode()
    response = requests.post(_callback_url(base_url, "ligdicash"), data=iter([body[:20], body[20:]]),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 404 and "PAY-NOBODY" in _rejected()[0].note


def test_rejected_callbacks_are_rate_limited_per_source(base_url, app, paying):
    """Past CALLBACK_REJECT_RATE_LIMIT rejections, a source gets 429 and nothing more is stored."""
    app.config["CALLBACK_REJECT_RATE_LIMIT"] = "3 per minute"
    codes = [requests.post(_callback_url(base_url, "ligdicash"), json={"status": "x"}, timeout=10).status_code
             for _ in range(6)]
    assert codes == [400, 400, 400, 429, 429, 429]
    assert len(_rejected()) == 3
    other = requests.post(_callback_url(base_url, "ligdicash"), json={"status": "x"}, timeout=10,
                          headers={"X-Forwarded-For": "198.51.100.7"})
    assert other.status_code == 400  # another source is not blocked by this one


def test_accepted_callbacks_do_not_use_up_the_limit(base_url, app, paying):
    app.config["CALLBACK_REJECT_RATE_LIMIT"] = "2 per minute"
    body = {"status": "pending", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": paying.reference}]}
    codes = {requests.post(_callback_url(base_url, "ligdicash"), json=body, timeout=10).status_code
             for _ in range(4)}
    assert 429 not in codes and codes <= {200, 503}


def test_healthz_is_503_when_the_database_is_down():
    app = create_app({"TESTING": True, "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "database unavailable"}


@pytest.mark.parametrize("path", [
    "/orders/%00", "/orders/x%00y", "/products/%00", "/products/a%00b", "/?page=9223372036854775807",
    "/?page=99999999999999999999999", "/?category=%00", "/orders/%00/cancel", "/orders/%00/return",
    "/admin/products/2147483648", "/admin/products/9223372036854775808", "/static/%00",
])
def test_nul_bytes_and_huge_numbers_in_addresses_are_4xx(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/evil.example", "\t//evil.example",
                                    "/\\evil.example", "//evil.example", "https://evil.example/"])
def test_shop_next_never_leaves_the_site(client, target):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/").text).group(1)
    response = client.post("/market", data={"csrf_token": token, "currency": "USD", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_local_path_check():
    assert local_path("/cart?x=1") == "/cart?x=1"
    for target in ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\x00", "/\x7f/x",
                   "//evil.example", "/\\evil.example", "evil.example", "", None, "http://x/", "/\x85/x"]:
        assert local_path(target) is None, repr(target)
