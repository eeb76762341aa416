"""Several dynos (issue 14): two web processes and two reconcile workers on one database.

Real processes, as Heroku runs them: two gunicorn servers (production config, the Procfile's
factory) and two ``flask reconcile`` commands, all on the suite's PostgreSQL database. The
gateway is PayUnit, played by the suite's own simulator (its invoices live in this process),
configured in the subprocesses as a real gateway with the simulator's credentials.
Needs PostgreSQL (``TEST_DATABASE_URL``); the sign-in test also needs Redis (``TEST_REDIS_URL``,
default ``redis://127.0.0.1:6379/13``, with a key prefix of its own).
"""
from __future__ import annotations

import re
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from extensions import db
from models import OutboxEmail, Payment, PaymentEvent, utcnow
from simulator.state import STATE
from tests.dynos import BIN, ROOT, WebDynos, dyno_env
from tests.helpers import REDIS_URL, forget_redis_keys, only_order, redis_or_skip, stock_of

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("several processes on one database need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def dynos(tmp_path):
    started = WebDynos(tmp_path)
    yield started
    started.stop()


def paid_at_gateway_without_callback(shopper) -> Payment:
    """A PayUnit order paid on the gateway's page whose callback was lost: ours still pending."""
    STATE.set_faults("payunit", callbacks="none")
    shopper.set_market("XAF")
    shopper.add_to_cart("pagne-wax-6-yards", 1)
    response = shopper.checkout(gateway="payunit")
    assert response.status_code == 303, response.text[:300]
    # PayUnit's page, paid; the customer closes the tab instead of following it back to the shop
    page = shopper.http.post(response.headers["Location"], data={"action": "pay", "phone": "677000000"},
                             allow_redirects=False, timeout=15)
    assert page.status_code == 303
    return db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()


def reconcile_worker(app, name: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "flask"), "--app", "app", "reconcile"], cwd=ROOT,
                            env=dyno_env(app, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_two_web_processes_and_two_workers_change_nothing_twice(app, base_url, dynos, ctx):
    """Callbacks to both web dynos and two reconcile workers, all at once, for the same payments:
    one transition and one receipt per order, each e-mail sent once, stock moved once."""
    from tests.helpers import Shopper

    payments = []
    for _ in range(4):
        with Shopper(base_url) as shopper:
            payments.append(paid_at_gateway_without_callback(shopper))
    refs = [(p.reference, p.order_id) for p in payments]
    stock_before = stock_of("pagne-wax-6-yards")
    db.session.remove()  # hold no connection while the others work
    web = [dynos.start(dyno_env(app, f"web.{n}")) for n in (1, 2)]

    def callback(job):
        url, reference = job
        return requests.post(f"{url}/payments/callback/payunit/{reference}", json={"status": "SUCCESS"},
                             timeout=30).status_code

    jobs = [(url, reference) for reference, _ in refs for url in web for _ in range(3)]
    workers = [reconcile_worker(app, f"worker.{n}") for n in (1, 2)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(callback, jobs))
    outputs = [worker.communicate(timeout=120)[0].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert set(statuses) == {200}, statuses

    deadline = time.monotonic() + 20  # e-mails are sent after the response, or by a worker
    while db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status != "sent")):
        assert time.monotonic() < deadline, "e-mails still waiting"
        time.sleep(0.2)
        db.session.rollback()
    for reference, order_id in refs:
        payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
        assert payment.status == "succeeded" and payment.order.status == "paid"
        moves = db.session.scalars(select(PaymentEvent.status_after).where(
            PaymentEvent.payment_id == payment.id, PaymentEvent.kind == "transition")).all()
        assert moves.count("succeeded") == 1 and moves.count("paid") == 1, moves
        emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.order_id == order_id)).all()
        assert sorted(e.kind for e in emails) == ["confirmation", "receipt"]
        assert all(e.status == "sent" and e.attempts == 1 for e in emails)
        sent = db.session.scalar(select(func.count()).select_from(PaymentEvent).where(
            PaymentEvent.order_id == order_id, PaymentEvent.kind == "email"))
        assert sent == 2  # one log line per e-mail: nothing sent twice
    assert stock_of("pagne-wax-6-yards") == stock_before


def test_two_workers_expire_an_order_once(app, shopper, ctx):
    """Two reconcile workers at once on an overdue order: expired once, its stock back once."""
    STATE.set_faults("payunit", callbacks="none")
    before = stock_of("pagne-wax-6-yards")
    shopper.set_market("XAF")
    shopper.add_to_cart("pagne-wax-6-yards", 3)
    assert shopper.checkout(gateway="payunit").status_code == 303
    order = only_order()
    assert stock_of("pagne-wax-6-yards") == before - 3
    order.expires_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    db.session.remove()
    workers = [reconcile_worker(app, f"worker.{n}") for n in (1, 2)]
    outputs = [worker.communicate(timeout=120)[0].decode() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert only_order().status == "expired"
    assert stock_of("pagne-wax-6-yards") == before


@pytest.fixture
def redis_prefix():
    """A Redis of our own (db number and key prefix); skipped when there is none."""
    client = redis_or_skip()
    prefix = f"comptoir-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    forget_redis_keys(client, prefix)
    client.close()
    client.close()


def failed_login(url: str, password: str = "wrong password") -> int:
    """One sign-in attempt at ``url``, as a new browser (production cookies are Secure, so the
    session cookie is carried by hand over this plain-HTTP loopback)."""
    page = requests.get(url + "/admin/login", timeout=15)
    cookie = page.cookies.get("session")
    response = requests.post(url + "/admin/login", allow_redirects=False, timeout=15,
                             headers={"Cookie": f"session={cookie}"},
                             data={"csrf_token": CSRF.search(page.text).group(1),
                                   "email": "merchant@example.com", "password": password, "next": ""})
    return response.status_code


def test_sign_in_limit_is_exact_across_processes_with_redis(app, dynos, redis_prefix, ctx):
    """Five failures in all, whichever process answered, then both refuse (memory would allow ten)."""
    from merchant.accounts import save_admin

    save_admin("merchant@example.com", "correct horse battery")
    db.session.commit()
    db.session.remove()
    env = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = (dynos.start(dyno_env(app, f"web.{n}", **env)) for n in (1, 2))
    answers = [failed_login(url) for url in (first, second, first, second, first)]
    assert answers == [401] * 5
    assert failed_login(second) == 429 and failed_login(first) == 429
    assert failed_login(second, "correct horse battery") == 429  # even the right password, for now
