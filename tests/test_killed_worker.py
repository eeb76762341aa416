"""A gunicorn worker killed mid-checkout (issue 30): the customer pays at once, once.

Real processes: a web dyno started the Procfile's way (production config, PostgreSQL, LigdiCash
played by the suite's simulator). The customer submits the checkout; while LigdiCash hangs on
the create, the worker is SIGKILLed (an OOM kill, a dyno's hard stop) and gunicorn starts a new
one. The attempt is left ``created`` with no gateway id. Submitting the same checkout again
inside the gateway's timeout changes nothing; once past it, the same submit reaches LigdiCash's
page, and paying there pays the order. Needs PostgreSQL (``TEST_DATABASE_URL``).
"""
from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import select

from extensions import db
from models import Order, Payment, Product
from payments.attempts import OPEN_GRACE_SECONDS
from simulator.state import STATE
from tests.dynos import WebDynos, dyno_env, gateway_env, kill_workers, workers_of
from tests.helpers import CHECKED_DELIVERY, CHECKOUT_KEY, CSRF, CUSTOMER, events

GATEWAY_TIMEOUT = 2


@pytest.fixture(autouse=True)
def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a web dyno beside the suite's server needs PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def dynos(tmp_path):
    started = WebDynos(tmp_path)
    yield started
    started.stop()


def customer_browser(url: str) -> requests.Session:
    """A phone's browser behind Heroku's router: HTTPS to the router (X-Forwarded-Proto, which
    also makes the CSRF check compare the Referer, as in production). Production's session
    cookie is Secure, so over this plain-HTTP loopback it is carried by hand."""
    browser = requests.Session()
    browser.headers.update({"X-Forwarded-Proto": "https", "Referer": url.replace("http:", "https:") + "/"})

    def keep_session(response: requests.Response, *args, **kwargs) -> None:
        cookie = response.cookies.get("session")
        if cookie:
            browser.headers["Cookie"] = f"session={cookie}"

    browser.hooks["response"].append(keep_session)
    return browser


def attempts_of(key: str) -> list[Payment]:
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.checkout_key == key))
    return list(order.payments) if order is not None else []


def test_a_worker_killed_while_the_gateway_thinks_does_not_block_the_order(app, dynos, ctx):
    env = dyno_env(app, "web.1", GATEWAY_TIMEOUT_SECONDS=str(GATEWAY_TIMEOUT), GUNICORN_THREADS="4",
                   **gateway_env(app, "ligdicash"))
    url = dynos.start(env)
    master = dynos.procs[-1]
    db.session.remove()
    STATE.set_faults("ligdicash", create="hang")  # the create never comes back
    browser = customer_browser(url)
    token = CSRF.search(browser.get(url + "/", timeout=15).text).group(1)
    browser.post(url + "/market", data={"csrf_token": token, "currency": "XOF"}, timeout=15,
                 allow_redirects=False)  # a redirect would be followed without the cookie
    product_id = db.session.scalar(select(Product.id).where(Product.slug == "pagne-wax-6-yards"))
    db.session.remove()
    added = browser.post(url + "/cart/add", data={"csrf_token": token, "product_id": product_id, "quantity": 1},
                         timeout=15, allow_redirects=False)
    assert added.status_code == 303, added.text[:500]
    page = browser.get(url + "/checkout", timeout=15).text
    form = {**CUSTOMER, "csrf_token": token, "gateway": "ligdicash",
            "checkout_key": CHECKOUT_KEY.search(page).group(1),
            "delivery": CHECKED_DELIVERY.search(page).group(1)}
    first: dict = {}

    def submit() -> None:
        try:
            first["response"] = browser.post(url + "/checkout", data=form, allow_redirects=False, timeout=30)
        except requests.ConnectionError as exc:
            first["error"] = exc

    thread = threading.Thread(target=submit)
    thread.start()
    deadline = time.monotonic() + 10
    while not attempts_of(form["checkout_key"]):  # the attempt is committed before the gateway call
        assert time.monotonic() < deadline, "the checkout never stored its attempt"
        time.sleep(0.02)
    stored_at = time.monotonic()
    killed = kill_workers(master)
    thread.join(timeout=30)
    assert killed and "error" in first, first  # the customer's request died with its worker
    stuck = attempts_of(form["checkout_key"])
    assert [(p.status, p.gateway_ref) for p in stuck] == [("created", None)]
    STATE.set_faults("ligdicash", create="")

    for _ in range(100):  # gunicorn has started a new worker
        if set(workers_of(master)) - set(killed):
            break
        time.sleep(0.1)
    again = browser.post(url + "/checkout", data=form, allow_redirects=False, timeout=30)
    if time.monotonic() - stored_at < GATEWAY_TIMEOUT:  # its request might still be waiting: left alone
        assert again.status_code == 303 and "/orders/" in again.headers["Location"]
        assert [p.status for p in attempts_of(form["checkout_key"])] == ["created"]
    time.sleep(GATEWAY_TIMEOUT + OPEN_GRACE_SECONDS + 0.5)
    again = browser.post(url + "/checkout", data=form, allow_redirects=False, timeout=30)
    assert again.status_code == 303, again.text[:300]
    assert "/_sim/ligdicash/pay/invoice/" in again.headers["Location"]
    attempts = attempts_of(form["checkout_key"])
    assert [p.status for p in attempts] == ["error", "pending"]
    assert "never opened" in events(attempts[0], "lookup")[0].note
    paid = browser.post(again.headers["Location"], data={"action": "pay", "phone": "22670000000"},
                        allow_redirects=False, timeout=15)
    assert paid.status_code == 303
    for _ in range(60):  # the genuine callback, to the suite's server (PUBLIC_BASE_URL)
        db.session.expire_all()
        if attempts_of(form["checkout_key"])[1].status == "succeeded":
            break
        time.sleep(0.1)
    order = attempts_of(form["checkout_key"])[1].order
    assert order.status == "paid"
    assert len([i for i in STATE.invoices.values() if i.gateway == "ligdicash"]) == 1
