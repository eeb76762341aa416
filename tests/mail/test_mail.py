"""Customer e-mails through the outbox (issue 10): written with the change they announce,
sent once whatever races, retried when the SMTP server is down, never doubled."""
from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from extensions import db
from mail import outbox as mail
from models import OutboxEmail, PaymentEvent, utcnow
from simulator.state import STATE
from tests.helpers import only_order


@pytest.fixture(autouse=True)
def empty_mailbox():
    mail.MEMORY.clear()
    yield
    mail.MEMORY.clear()


def outbox(kind: str | None = None) -> list[OutboxEmail]:
    db.session.expire_all()
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    return list(db.session.scalars(stmt.where(OutboxEmail.kind == kind) if kind else stmt))


def send_due(app) -> int:
    with app.app_context():
        try:
            return mail.deliver(now=utcnow() + timedelta(hours=2))
        finally:
            db.session.remove()


def test_purchase_writes_a_confirmation_and_a_receipt_each_sent_once(shopper, app):
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    send_due(app)  # whatever the requests' own delivery has not sent yet
    assert [e.kind for e in outbox()] == ["confirmation", "receipt"]
    assert all(e.status == "sent" and e.attempts == 1 for e in outbox())
    subjects = sorted(m["Subject"] for m in mail.MEMORY)
    assert subjects == sorted([f"Your order {order.reference}", f"Payment received for order {order.reference}"])
    receipt = next(m for m in mail.MEMORY if m["Subject"].startswith("Payment received"))
    assert receipt["To"] == "awa@example.bf"
    text = receipt.get_body(("plain",)).get_content()
    assert order.reference in text and f"/orders/{order.token}" in text and "Pagne wax 6 yards" in text
    assert "Pagne wax 6 yards" in receipt.get_body(("html",)).get_content()
    assert send_due(app) == 0 and len(mail.MEMORY) == 2  # nothing is sent twice
    logged = db.session.scalars(select(PaymentEvent.note).where(PaymentEvent.kind == "email")).all()
    assert len(logged) == 2 and any("receipt e-mail sent" in n for n in logged)


def test_duplicate_callbacks_and_the_return_page_write_one_receipt(shopper, app):
    redirect = shopper.buy()
    shopper.on_gateway_page(redirect, "pay")  # two callbacks and the return landing
    payment = only_order().payments[0]
    body = {"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    for _ in range(3):
        requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10)
    send_due(app)
    assert len(outbox("receipt")) == 1
    assert sum(m["Subject"].startswith("Payment received") for m in mail.MEMORY) == 1


def test_parallel_callbacks_send_one_receipt(shopper, app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the parallel race needs PostgreSQL: SQLite serialises all writers")
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "phone": "22670000000"},
                      allow_redirects=False)
    payment = only_order().payments[0]
    body = {"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    barrier = threading.Barrier(20, timeout=60)

    def deliver(_):
        barrier.wait()
        return requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=30).status_code

    with ThreadPoolExecutor(20) as pool:
        assert set(pool.map(deliver, range(20))) == {200}
    send_due(app)
    assert len(outbox("receipt")) == 1
    assert sum(m["Subject"].startswith("Payment received") for m in mail.MEMORY) == 1


def test_failed_payment_mail_links_to_the_retry(shopper, app):
    shopper.on_gateway_page(shopper.buy(), "decline")
    order = only_order()
    send_due(app)
    failed = next(m for m in mail.MEMORY if "did not go through" in m["Subject"])
    assert f"/orders/{order.token}" in failed.get_body(("plain",)).get_content()
    assert [e.kind for e in outbox()] == ["confirmation", "payment_failed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_smtp_down_then_up_sends_once(shopper, app):
    from aiosmtpd.controller import Controller

    port = free_port()
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_USE_TLS=False, MAIL_TIMEOUT_SECONDS=2)
    shopper.buy()  # the confirmation: the server is down
    send_due(app)
    [email] = outbox("confirmation")
    assert email.status == "pending" and email.attempts >= 1
    assert "ConnectionRefusedError" in email.last_error

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert send_due(app) == 1
        assert send_due(app) == 0
    finally:
        controller.stop()
    assert len(received) == 1 and b"Subject: Your order CMD-" in received[0]
    assert outbox("confirmation")[0].status == "sent"
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_sent_right_after_the_response(shopper, app):
    """In production the e-mail goes out as soon as the response that wrote it is sent."""
    import time

    app.config["MAIL_SEND_AFTER_RESPONSE"] = True
    shopper.buy()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        db.session.expire_all()
        emails = outbox("confirmation")
        done = db.session.scalar(select(func.count()).select_from(PaymentEvent).where(PaymentEvent.kind == "email"))
        if emails and emails[0].status == "sent" and done:
            break
        time.sleep(0.05)
    assert emails[0].status == "sent" and len(mail.MEMORY) == 1


def test_reconciliation_writes_and_sends_a_late_receipt(shopper, app):
    """Outside any request (the reconcile command), the receipt still gets its order link."""
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "phone": "22670000000"},
                      allow_redirects=False)
    from payments.reconcile import reconcile_once
    with app.app_context():
        assert reconcile_once().emails_sent == 2  # the confirmation and the receipt
    order = only_order()
    receipt = next(m for m in mail.MEMORY if m["Subject"].startswith("Payment received"))
    assert f"{app.config['PUBLIC_BASE_URL']}/orders/{order.token}" in receipt.get_body(("plain",)).get_content()
