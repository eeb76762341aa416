"""Background jobs on a real queue, and the faults of real parts (issue 29).

A real Redis, a real ``flask worker`` process (production config, RQ's SimpleWorker with its
scheduler), real gunicorn web processes and the suite's PostgreSQL database. The suite's own
server plays "the web process" for purchases (its simulator stands in for the gateways); with a
queue configured it only enqueues, and the worker sends the e-mails (to a real SMTP server on a
local port, aiosmtpd) and makes LigdiCash's deferred confirmations. Redis and the database are
then cut under running gunicorn processes through a TCP proxy (tests/faults.py).

Needs PostgreSQL (``TEST_DATABASE_URL``) and Redis (``TEST_REDIS_URL``, default
``redis://127.0.0.1:6379/13``); each test uses a queue (and rate-limit prefix) of its own.
"""
from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from extensions import db
from mail import outbox as mail_outbox
from models import OutboxEmail, Payment
from payments import deferred
from simulator.state import STATE
from tests.admin.conftest import EMAIL, PASSWORD, AdminActions, text_of
from tests.dynos import BIN, ROOT, WebDynos, dyno_env, free_port, gateway_env
from tests.faults import TcpProxy
from tests.helpers import REDIS_URL, Shopper, events, forget_redis_keys, only_order, redis_or_skip

LIGDICASH_PAY = {"action": "pay", "phone": "22670000000"}


@pytest.fixture(autouse=True)
def postgres_and_redis(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a worker process beside the web process needs PostgreSQL (set TEST_DATABASE_URL)")
    redis_or_skip().close()


@pytest.fixture
def queue_name(app):
    """A queue of this test's own, used by the suite's server too; its keys removed at the end."""
    import redis

    name = f"comptoir-test-{uuid.uuid4().hex[:10]}"
    app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=name, MAIL_SEND_AFTER_RESPONSE=True)
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    forget_redis_keys(client, name)
    client.close()


class Smtp:
    """A real SMTP server on a local port (aiosmtpd), keeping what it is sent."""

    def __init__(self, port: int):
        from aiosmtpd.controller import Controller

        self.port = port
        self.received: list[bytes] = []
        received = self.received

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                received.append(envelope.content)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> Smtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def subjects(self) -> list[str]:
        import email

        return [str(email.message_from_bytes(m)["Subject"]) for m in self.received]


class Worker:
    """``flask --app app worker``, the Procfile's worker line, in production config."""

    def __init__(self, app, logs: Path, queue: str, smtp_port: int, **extra: str):
        env = dyno_env(app, "worker.1", JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=queue,
                       JOB_RETRY_INTERVALS="1,1", RECONCILE_INTERVAL_SECONDS="3600",
                       MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port), MAIL_USE_TLS="0",
                       MAIL_TIMEOUT_SECONDS="2", **gateway_env(app, "ligdicash"), **extra)
        self.log = logs / "worker.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([str(BIN / "flask"), "--app", "app", "worker"], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "Listening on" not in self.output() and "listening" not in self.output().lower():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def stop(self) -> None:
        self.proc.terminate()  # RQ's warm shutdown: the job in hand finishes
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start_worker(app, tmp_path, queue_name):
    started: list[Worker] = []

    def start(smtp_port: int, **extra: str) -> Worker:
        worker = Worker(app, tmp_path, queue_name, smtp_port, **extra)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.2)


def rq_queue(name: str):
    import redis
    from rq import Queue

    return Queue(name, connection=redis.Redis.from_url(REDIS_URL))


def test_receipt_is_sent_by_the_worker_not_the_web_process(app, shopper, start_worker, queue_name):
    """A LigdiCash purchase paid on the gateway's page: the web process writes the confirmation
    and the receipt and only queues them; the worker sends each once over SMTP, logged in JSON
    under the id of the request that queued it."""
    mail_outbox.MEMORY.clear()
    with Smtp(free_port()) as smtp:
        worker = start_worker(smtp.port)
        redirect = shopper.buy()
        response = shopper.on_gateway_page(redirect)
        assert response.status_code == 200
        order = only_order()
        assert order.status == "paid"
        wait_for(lambda: len(smtp.received) >= 2, 20, f"e-mails not sent by the worker: {worker.output()[-2000:]}")
        time.sleep(0.5)  # nothing more comes
        subjects = smtp.subjects()
        assert sorted(s.split(" ")[0] for s in subjects) == ["Payment", "Your"], subjects
        assert any(order.reference in s for s in subjects)
    assert mail_outbox.MEMORY == []  # the web process (the suite's server) sent nothing itself
    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.order_id == order.id)).all()
    assert sorted(e.kind for e in emails) == ["confirmation", "receipt"]
    assert all(e.status == "sent" and e.attempts == 1 for e in emails)
    done = [line for line in worker.json_lines() if line["message"].startswith("job send e-mail")
            and " done in " in line["message"]]
    assert len(done) == 2, worker.output()[-3000:]
    assert all(line["request_id"] for line in done)  # carried from the request that queued it


def test_ligdicash_deferred_confirmation_is_made_by_the_worker(app, shopper, start_worker, queue_name):
    """Forged callbacks open LigdiCash's 3 s window just before the genuine ones: the genuine
    callback's confirmation becomes a delayed job, and the worker's scheduler runs it when the
    window opens; no timer waits in the web process."""
    STATE.set_faults("ligdicash", confirm_pacing=1)  # the simulator refuses a confirm < 3 s later
    with Smtp(free_port()) as smtp:
        worker = start_worker(smtp.port)
        redirect = shopper.buy()
        payment = only_order().payments[0]
        body = {"status": "completed", "custom_data": [
            {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
        for _ in range(3):
            assert requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10).status_code == 200
        page = shopper.http.post(redirect.headers["Location"], data=LIGDICASH_PAY, allow_redirects=False,
                                 timeout=15)
        assert page.status_code == 303
        assert deferred.waiting() == 0  # queued, not held in this process
        wait_for(lambda: db.session.get(Payment, payment.id).status == "succeeded", 3 + 5,
                 lambda: f"not confirmed: {[e.note for e in events(payment)]} {worker.output()[-3000:]}")
    notes = [e.note for e in events(payment)]
    assert any("confirmation queued" in n for n in notes), notes
    assert not any("429" in n for n in notes)
    succeeded = [e for e in events(payment, "callback-deferred") if e.status_after == "succeeded"]
    assert succeeded and succeeded[0].verified


def test_a_failing_job_is_retried_then_listed_and_retried_from_the_dashboard(
        app, base_url, shopper, start_worker, queue_name, ctx):
    """The mail server is down: the confirmation's job fails, is retried twice with its backoff,
    then is listed on the dashboard's Jobs page with the reason. The server comes back; the
    merchant presses Retry and the worker sends it, once."""
    from merchant.accounts import save_admin

    save_admin(EMAIL, PASSWORD)
    db.session.commit()
    port = free_port()  # nothing listens there yet
    worker = start_worker(port)
    shopper.buy()
    order = only_order()
    failed = rq_queue(queue_name).failed_job_registry
    wait_for(lambda: failed.count == 1, 30, f"job never failed for good: {worker.output()[-3000:]}")
    [email] = db.session.scalars(select(OutboxEmail).where(OutboxEmail.order_id == order.id)).all()
    assert email.status == "pending" and email.attempts == 3  # the first try and two retries
    assert "ConnectionRefused" in (email.last_error or "")

    merchant = AdminActions(base_url)
    assert merchant.login().status_code == 303
    page = merchant.get("/admin/jobs")
    assert page.status_code == 200
    shown = text_of(page)
    assert f"send e-mail #{email.id}" in shown and "ConnectionRefused" in shown
    assert "failed: 1" in shown

    with Smtp(port) as smtp:
        answer = merchant.post(f"/admin/jobs/{queue_name}-email-{email.id}/retry", csrf_from="/admin/jobs")
        assert answer.status_code == 303
        wait_for(lambda: smtp.received, 15, f"not sent after the retry: {worker.output()[-2000:]}")
        time.sleep(0.5)
        assert len(smtp.received) == 1
    db.session.refresh(email)
    assert email.status == "sent" and email.attempts == 4
    assert "No failed job" in text_of(merchant.get("/admin/jobs"))
    # the button on a job that is no longer there says so, never a 500
    again = merchant.post(f"/admin/jobs/{queue_name}-email-{email.id}/retry", csrf_from="/admin/jobs")
    assert again.status_code == 303
    assert "no longer in the failed list" in text_of(merchant.get("/admin/jobs"))


def test_the_worker_resizes_a_photo_the_merchant_uploaded(app, base_url, shopper, start_worker, queue_name, ctx):
    """The dashboard (the suite's server, a queue configured) only checks and keeps the photo;
    the Procfile's worker resizes it, and the product page then shows it."""
    from merchant.accounts import save_admin
    from models import Product
    from tests.admin.test_product_photos import _form, _post
    from tests.media.test_images import photo

    save_admin(EMAIL, PASSWORD)
    db.session.commit()
    merchant = AdminActions(base_url)
    assert merchant.login().status_code == 303
    response = _post(merchant, "/admin/products/new", _form(),
                     [("images", ("a.jpg", photo(1600, 1200), "image/jpeg"))])
    assert response.status_code == 303, text_of(response)[:500]
    product = db.session.scalar(select(Product).where(Product.slug == "sac-en-raphia"))
    assert product.images == [] and len(product.uploads) == 1
    assert "1 photo is being prepared" in text_of(merchant.get(f"/admin/products/{product.id}"))

    worker = start_worker(free_port())
    wait_for(lambda: db.session.scalar(select(Product).where(Product.slug == "sac-en-raphia")).images, 30,
             lambda: f"photo not resized by the worker: {worker.output()[-3000:]}")
    product = db.session.scalar(select(Product).where(Product.slug == "sac-en-raphia"))
    assert product.uploads == [] and product.main_image.widths == "320,640,1280"
    page = shopper.get("/products/sac-en-raphia").text
    assert product.main_image.digest in page
    assert any(line["message"].startswith("job resize photo upload") and " done in " in line["message"]
               for line in worker.json_lines()), worker.output()[-3000:]


class DynoShopper(Shopper):
    """A shopper on a gunicorn dyno (production config, Secure cookies) over loopback HTTP: the
    cookies are sent anyway, as a browser would over the HTTPS the router speaks."""

    def __init__(self, base_url: str):
        super().__init__(base_url)
        original = self.http.request

        def request(method, url, **kwargs):
            for cookie in self.http.cookies:
                cookie.secure = False
            return original(method, url, **kwargs)

        self.http.request = request  # type: ignore[method-assign]


@pytest.fixture
def dynos(tmp_path):
    started = WebDynos(tmp_path)
    yield started
    started.stop()


def test_redis_unreachable_the_shop_keeps_selling_then_recovers(app, dynos, queue_name, tmp_path, ctx):
    """Redis cut under a running web process: /readyz names it (503), the storefront sells (the
    checkout's e-mail is sent by the web process itself), the sign-in limit counts in memory;
    Redis back: ready again and the next e-mail is queued, with no restart."""
    host = urlsplit(REDIS_URL)
    proxy = TcpProxy(host.hostname or "127.0.0.1", host.port or 6379)
    via_proxy = f"redis://127.0.0.1:{proxy.port}{host.path}"
    try:
        url = dynos.start(dyno_env(app, "web.1", JOBS_REDIS_URL=via_proxy, JOBS_QUEUE_NAME=queue_name,
                                   RATELIMIT_STORAGE_URI=via_proxy, RATELIMIT_KEY_PREFIX=queue_name,
                                   LOG_FORMAT="json"))
        ready = requests.get(url + "/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["redis"] == "ok", ready.text
        proxy.cut()
        ready = requests.get(url + "/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["status"] == "redis unavailable", ready.text
        with DynoShopper(url) as shopper:
            assert shopper.get("/").status_code == 200
            shopper.set_market("XAF")
            assert shopper.add_to_cart("pagne-wax-6-yards", 1).status_code == 303
            checkout = shopper.checkout(gateway="payunit")
            assert checkout.status_code == 303, checkout.text[:500]
            order = only_order()
            wait_for(lambda: db.session.scalar(select(OutboxEmail.status).where(
                OutboxEmail.order_id == order.id)) == "sent", 10, "the confirmation was not sent without Redis")
            assert shopper.post("/admin/login", {"email": "x@example.com", "password": "nope", "next": ""},
                                csrf_from="/admin/login").status_code == 401
        proxy.restore()
        wait_for(lambda: requests.get(url + "/readyz", timeout=5).status_code == 200, 10, "not ready again")
        with DynoShopper(url) as shopper:
            shopper.set_market("XAF")
            shopper.add_to_cart("pagne-wax-6-yards", 1)
            assert shopper.checkout(gateway="payunit").status_code == 303
        wait_for(lambda: rq_queue(queue_name).count >= 1, 10, "the next e-mail was not queued")
    finally:
        proxy.stop()
    log = (tmp_path / "web.1.log").read_text()
    assert "job queue unreachable" in log


def test_database_blip_pages_answer_503_then_the_shop_recovers(app, dynos, ctx):
    """The database unreachable for 10 s under a running web process: pages answer a friendly
    503 with Retry-After (never a 500), a callback gets 503 (the gateway sends it again), and
    once it is back the same process sells again, the cart kept and the callback applied."""
    from tests.test_deploy_processes import paid_at_gateway_without_callback

    database = urlsplit(app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql", 1))
    proxy = TcpProxy(database.hostname or "127.0.0.1", database.port or 5432)
    try:
        with Shopper(app.config["PUBLIC_BASE_URL"]) as first:
            payment = paid_at_gateway_without_callback(first)  # paid at PayUnit, callback lost
        reference = payment.reference
        db.session.remove()
        env = dyno_env(app, "web.1")
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(database.netloc.split("@")[-1],
                                                          f"127.0.0.1:{proxy.port}", 1)
        url = dynos.start(env)
        pid = dynos.procs[-1].pid
        with DynoShopper(url) as shopper:
            shopper.set_market("XAF")
            assert shopper.add_to_cart("pagne-wax-6-yards", 2).status_code == 303
            proxy.cut()
            cut_at = time.monotonic()
            answers = []
            while time.monotonic() - cut_at < 10:
                page = shopper.get("/")
                callback = requests.post(f"{url}/payments/callback/payunit/{reference}",
                                         json={"status": "SUCCESS"}, timeout=10)
                answers.append((page.status_code, callback.status_code))
                assert page.status_code == 503, page.text[:300]
                # production speaks French by default (DEFAULT_LOCALE): the translated page
                assert "La boutique revient dans un instant" in page.text and page.headers["Retry-After"] == "10"
                assert callback.status_code == 503 and "database unavailable" in callback.json()["error"]
                time.sleep(1)
            assert requests.get(url + "/healthz", timeout=5).status_code == 503
            proxy.restore()
            wait_for(lambda: shopper.get("/").status_code == 200, 10, "the shop did not recover")
            assert dynos.procs[-1].poll() is None and dynos.procs[-1].pid == pid  # no restart
            assert 'id="cart-count">2<' in shopper.get("/").text  # the cart is kept
            assert shopper.checkout(gateway="payunit").status_code == 303
        # the gateway sends its callback again: applied now
        again = requests.post(f"{url}/payments/callback/payunit/{reference}", json={"status": "SUCCESS"}, timeout=15)
        assert again.status_code == 200, again.text
        db.session.rollback()
        paid = db.session.scalar(select(Payment).where(Payment.reference == reference))
        assert paid.status == "succeeded" and paid.order.status == "paid"
        assert len(answers) >= 5
    finally:
        proxy.stop()
