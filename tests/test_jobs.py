"""Jobs without a worker, health, request logs (issue 29), on any database.

Without a Redis (``make run``, the suite) nothing is queued and the shop behaves as before:
e-mails after the response, confirmations on a timer, ``flask worker`` runs the reconciliation
loop. With a Redis that does not answer the same happens, with a warning. ``/readyz`` names
the part that failed; every response carries an ``X-Request-ID`` and writes one JSON line.
The worker and a live Redis are exercised in tests/test_jobs_worker.py.
"""
from __future__ import annotations

import json
import logging

import pytest

from config import ConfigError, validate
from core import jobs, requestlog
from tests.dynos import free_port

DEAD_REDIS = "redis://127.0.0.1:{port}/5"


@pytest.fixture
def dead_redis(app):
    """A Redis URL nothing answers at (a port nobody listens on)."""
    url = DEAD_REDIS.format(port=free_port())
    app.config.update(JOBS_REDIS_URL=url, JOBS_REDIS_TIMEOUT_SECONDS=0.5)
    return url


def test_readyz_without_a_queue_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"].startswith("not configured")


def test_readyz_names_redis_when_it_does_not_answer(client, dead_redis, caplog):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "redis unavailable", "database": "ok", "redis": "unavailable"}
    assert "readyz: redis unavailable" in caplog.text
    assert client.get("/healthz").status_code == 200  # liveness is the database only


def test_readyz_and_healthz_are_never_rate_limited(client):
    assert all(client.get("/readyz").status_code == 200 for _ in range(30))


def test_enqueue_without_redis_says_no_and_the_caller_does_the_work(ctx):
    assert jobs.enqueue("payments.reconcile.scheduled_pass") is False


def test_enqueue_with_redis_away_says_no_with_a_warning(ctx, dead_redis, caplog):
    assert jobs.enqueue("mail.outbox.send_one", 1, job_id="email-1") is False
    assert "job queue unreachable (ConnectionError): mail.outbox.send_one is done without it" in caplog.text


def test_a_purchase_with_redis_away_still_sends_its_e_mail(app, shopper, dead_redis):
    """The storefront keeps selling: the confirmation, not queued, is sent after the response."""
    from mail import outbox

    outbox.MEMORY.clear()
    app.config["MAIL_SEND_AFTER_RESPONSE"] = True
    assert shopper.buy().status_code == 303
    import time

    deadline = time.monotonic() + 10
    while not outbox.MEMORY and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["Subject"].split(" ")[0] for m in outbox.MEMORY] == ["Your"]


def test_the_jobs_page_without_a_queue_says_so(admin_signed_in):
    page = admin_signed_in.get("/admin/jobs")
    assert page.status_code == 200 and "No job queue" in page.text


def test_the_jobs_page_with_redis_away_says_so_not_500(admin_signed_in, dead_redis):
    page = admin_signed_in.get("/admin/jobs")
    assert page.status_code == 200 and "does not answer" in page.text
    answer = admin_signed_in.post("/admin/jobs/email-1/retry", csrf_from="/admin/jobs")
    assert answer.status_code == 303


@pytest.fixture
def admin_signed_in(base_url, ctx):
    from merchant.accounts import save_admin
    from tests.admin.conftest import EMAIL, PASSWORD, AdminActions

    save_admin(EMAIL, PASSWORD)
    browser = AdminActions(base_url)
    assert browser.login().status_code == 303
    yield browser
    browser.http.close()


def test_worker_without_redis_runs_the_reconciliation_pass(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "no job queue; running the reconciliation loop" in result.output
    assert "Reconciled: checked" in result.output


def test_every_response_has_a_request_id_and_one_json_line(client, caplog):
    caplog.set_level(logging.INFO, logger="comptoir.request")
    response = client.get("/", headers={"X-Request-ID": "router-id-1234"})
    assert response.headers["X-Request-ID"] == "router-id-1234"
    [record] = [r for r in caplog.records if r.name == "comptoir.request"]
    line = json.loads(requestlog.JsonFormatter().format(record))
    assert line["request_id"] == "router-id-1234"
    assert line["method"] == "GET" and line["route"] == "/" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)


def test_a_forged_request_id_is_replaced(client):
    for forged in ('x", "level": "ERROR', "short", "a" * 65):
        response = client.get("/", headers={"X-Request-ID": forged})
        assert len(response.headers["X-Request-ID"]) == 32 and response.headers["X-Request-ID"] != forged


def test_the_line_names_the_order_and_payment_and_gateway_calls_share_the_id(shopper, caplog):
    """A checkout's line names its order and payment; the gateway call made during it is logged
    under the same request id, with no query string (LigdiCash's confirm carries a token)."""
    caplog.set_level(logging.INFO)
    assert shopper.buy().status_code == 303
    [line] = [r for r in caplog.records if r.name == "comptoir.request" and r.fields["route"] == "/checkout"
              and r.fields["method"] == "POST"]
    assert line.fields["order"].startswith("CMD-") and line.fields["payment"].startswith("PAY-")
    calls = [r for r in caplog.records if r.name == "comptoir.gateway"]
    assert calls and calls[0].request_id == line.request_id
    assert "checkout-invoice/create: HTTP 200" in calls[0].getMessage()
    assert all("?" not in r.getMessage() for r in calls)


def test_an_order_page_line_never_holds_its_token(shopper, caplog):
    caplog.set_level(logging.INFO, logger="comptoir.request")
    shopper.buy()
    from tests.helpers import only_order

    order = only_order()
    assert shopper.get(f"/orders/{order.token}").status_code == 200
    lines = [json.loads(requestlog.JsonFormatter().format(r)) for r in caplog.records if r.name == "comptoir.request"]
    page = [line for line in lines if line["route"] == "/orders/<token>"]
    assert page and page[0]["order"] == order.reference
    assert not any(order.token in json.dumps(line) for line in lines)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("JOB_RETRY_INTERVALS", "10,soon", "JOB_RETRY_INTERVALS must be seconds"),
    ("JOB_RETRY_INTERVALS", "-5", "JOB_RETRY_INTERVALS must be seconds"),
    ("JOBS_REDIS_URL", "localhost:6379", "must be a redis:// or rediss:// URL"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT must be 'json' or 'text'"),
])
def test_unusable_job_settings_are_refused_by_name(app, key, value, message):
    with pytest.raises(ConfigError, match=message):
        validate({**app.config, key: value})


def test_the_periodic_job_keeps_one_run_per_slot():
    assert jobs.slot_id("payments.reconcile.scheduled_pass", 1200.0) == "every-payments_reconcile_scheduled_pass-1200"


def test_two_shops_on_one_redis_never_share_a_job(app, ctx):
    """JOBS_QUEUE_NAME lets two shops use one Redis; RQ's job ids are global to it, so the same
    e-mail number or reconciliation slot in both must stay two jobs, each on its own queue (the
    second would otherwise overwrite the first, and one shop's periodic pass would stop)."""
    import uuid

    from rq import Queue
    from rq.job import Job

    from tests.helpers import REDIS_URL, forget_redis_keys, redis_or_skip

    client = redis_or_skip()
    names = [f"comptoir-test-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    try:
        for name in names:
            app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=name)
            assert jobs.enqueue("mail.outbox.send_one", 5, job_id="email-5")
            assert jobs.schedule_next("payments.reconcile.scheduled_pass", 60, now=1200.0)
        for name in names:
            queued = Queue(name, connection=client)
            ids = sorted(queued.job_ids + queued.scheduled_job_registry.get_job_ids())
            assert ids == [f"{name}-email-5", f"{name}-every-payments_reconcile_scheduled_pass-1260"]
            assert all(Job.fetch(i, connection=client).origin == name for i in ids)
    finally:
        for name in names:
            forget_redis_keys(client, name)
        client.close()


@pytest.fixture
def database_away():
    """The shop pointed at a PostgreSQL server that is not there (a port nobody listens on)."""
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone"})


def test_database_away_pages_answer_a_friendly_503_never_a_500(database_away):
    """The catalogue, a missing page and a signed-in merchant's dashboard (whose session the
    error page would otherwise load from the database): each a 503 that needs nothing from it."""
    client = database_away.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"  # a merchant signed in before the database went away
        session["_fresh"] = True
    for path in ("/", "/no-such-page", "/admin/", "/products/pagne-wax-6-yards"):
        response = client.get(path)
        assert response.status_code == 503, (path, response.status_code)
        assert response.headers["Retry-After"] == "10"
        assert "The shop will be back in a moment" in response.get_data(as_text=True)
    callback = client.post("/payments/callback/payunit/PAY-X", json={"status": "SUCCESS"})
    assert callback.status_code == 503 and callback.get_json() == {"error": "database unavailable; retry later"}
    assert client.get("/healthz").status_code == 503
    assert client.get("/readyz").get_json()["status"] == "database unavailable"
