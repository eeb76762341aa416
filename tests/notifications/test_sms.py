"""Issue 28: customer texts through the SMS outbox, sent over real HTTP to the Africa's
Talking simulator (its wire format, as strict as the real API): one per step, in the
customer's language, retried when the provider fails, never the API key in a log."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app import create_app
from config import ConfigError
from extensions import db
from models import Order, OutboxSms, PaymentEvent, utcnow
from notifications import sms
from payments.reconcile import reconcile_once
from simulator import SIM_SMS
from simulator.state import STATE
from tests.helpers import only_order

PHONE = "+22670123456"  # tests.helpers.CUSTOMER's "+226 70 12 34 56", as the checkout stores it


@pytest.fixture
def texts_on(app, ctx):
    """SMS through Africa's Talking; no account configured, so the simulator's is used."""
    app.config.update(SMS_PROVIDER="africastalking", AFRICASTALKING_USERNAME="", AFRICASTALKING_API_KEY="")
    assert sms.provider() == "africastalking"
    return app


def outbox(kind: str | None = None) -> list[OutboxSms]:
    db.session.expire_all()
    query = select(OutboxSms).order_by(OutboxSms.id)
    return list(db.session.scalars(query.where(OutboxSms.kind == kind) if kind else query))


def test_no_text_unless_configured(shopper, app):
    shopper.on_gateway_page(shopper.buy(), "pay")
    assert only_order().status == "paid" and outbox() == []
    # africastalking named, but no account and no simulator to stand in: still off
    app.config.update(SMS_PROVIDER="africastalking", SIMULATED_SMS=None)
    assert sms.provider() == ""
    shopper.on_gateway_page(shopper.buy(), "pay")
    assert outbox() == [] and sms.deliver() == 0


def test_an_unknown_provider_is_a_configuration_error():
    with pytest.raises(ConfigError, match="SMS_PROVIDER must be empty"):
        create_app({"SMS_PROVIDER": "twilio"})


def test_a_provider_without_its_account_says_so_at_start(caplog):
    caplog.set_level(logging.WARNING, logger="comptoir")
    app = create_app({"SMS_PROVIDER": "africastalking", "SIMULATOR_ENABLED": False})
    assert "no texts are sent" in caplog.text
    with app.app_context():
        assert sms.provider() == ""


def test_each_step_is_texted_once_in_the_customers_language(texts_on, admin, shopper):
    assert shopper.post("/language", {"language": "fr"}).status_code == 303
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    assert [t.kind for t in outbox()] == ["received", "paid"]
    assert sms.deliver() == 2
    sent = STATE.texts_sent()
    assert [t.to for t in sent] == [PHONE, PHONE]
    assert sent[0].message.startswith(f"Comptoir : nous avons votre commande {order.reference}")
    assert f"/orders/{order.token}" in sent[0].message
    assert "paiement de 15 000 F CFA reçu" in sent[1].message and order.reference in sent[1].message
    assert all(t.status == "sent" and t.provider_ref.startswith("ATXid_") for t in outbox())
    page = f"/admin/orders/{order.reference}"
    admin.post(page + "/fulfil", {"action": "preparing"}, csrf_from=page)
    admin.post(page + "/refund", {"amount": "5000", "method": "mobile_money"}, csrf_from=page)
    for action in ("ready_for_pickup", "picked_up"):
        admin.post(page + "/fulfil", {"action": action}, csrf_from=page)
        admin.post(page + "/fulfil", {"action": action}, csrf_from=page)  # a second click: no second text
    assert [t.kind for t in outbox()] == ["received", "paid", "refunded", "ready_for_pickup", "picked_up"]
    assert sms.deliver() == 3 and sms.deliver() == 0  # each once
    messages = [t.message for t in STATE.texts_sent()]
    assert "remboursé 5 000 F CFA" in messages[2] and order.reference in messages[2]
    assert "prête à être retirée" in messages[3] and order.delivery_label in messages[3]
    assert "vous avez retiré votre commande" in messages[4]
    logged = db.session.scalars(select(PaymentEvent.note).where(PaymentEvent.order_id == order.id,
                                                                PaymentEvent.kind == "sms")).all()
    assert len(logged) == 5 and all(f"SMS sent to {PHONE} (fr)" in note for note in logged)


def test_the_simulator_is_as_strict_as_the_api(base_url):
    url = f"{base_url}{SIM_SMS['path']}/version1/messaging"
    good = {"username": SIM_SMS["username"], "to": PHONE, "message": "Bonjour"}
    headers = {"apiKey": SIM_SMS["api_key"], "Accept": "application/json"}
    assert requests.post(url, data=good, timeout=5).status_code == 401  # no apiKey
    assert requests.post(url, data=good, headers={**headers, "apiKey": "wrong"}, timeout=5).status_code == 401
    assert requests.post(url, data={**good, "message": " "}, headers=headers, timeout=5).status_code == 400
    answer = requests.post(url, data={**good, "to": "070123456"}, headers=headers, timeout=5)
    assert answer.status_code == 201
    assert answer.json()["SMSMessageData"]["Recipients"][0]["status"] == "InvalidPhoneNumber"
    assert STATE.texts_sent() == []
    ok = requests.post(url, data=good, headers=headers, timeout=5).json()["SMSMessageData"]
    assert ok["Recipients"][0]["statusCode"] == 101 and len(STATE.texts_sent()) == 1
    listed = requests.get(f"{base_url}{SIM_SMS['path']}/messages", timeout=5).json()
    assert [(t["to"], t["message"]) for t in listed] == [(PHONE, "Bonjour")]
    assert "Bonjour" in requests.get(f"{base_url}/_sim/", timeout=5).text


def test_provider_down_is_retried_later_and_the_api_key_is_never_logged(texts_on, shopper, caplog):
    texts_on.config.update(AFRICASTALKING_USERNAME=SIM_SMS["username"], AFRICASTALKING_API_KEY=SIM_SMS["api_key"],
                           AFRICASTALKING_BASE_URL=texts_on.config["PUBLIC_BASE_URL"] + SIM_SMS["path"])
    from core import redaction

    redaction.remember_secrets([SIM_SMS["api_key"]])  # as create_app does with the configured key
    caplog.set_level(logging.DEBUG)
    STATE.sms_fault = "http500"
    shopper.buy()
    assert sms.deliver() == 0
    text = outbox("received")[0]
    assert text.status == "pending" and text.attempts == 1 and "HTTP 500" in text.last_error
    assert text.next_attempt_at > utcnow() + timedelta(seconds=90)
    STATE.sms_fault = ""
    assert sms.deliver() == 0  # not due yet
    assert sms.deliver(now=utcnow() + timedelta(minutes=3)) == 1
    assert outbox("received")[0].status == "sent" and len(STATE.texts_sent()) == 1
    assert SIM_SMS["api_key"] not in caplog.text
    assert "not sent (attempt 1)" in caplog.text


def test_a_number_the_provider_refuses_is_not_retried(texts_on, shopper):
    STATE.sms_fault = "blacklist"
    shopper.buy()
    assert sms.deliver() == 0
    text = outbox("received")[0]
    assert (text.status, text.attempts) == ("failed", 1) and "UserInBlacklist (406)" in text.last_error
    STATE.sms_fault = ""
    assert sms.deliver(now=utcnow() + timedelta(days=1)) == 0 and STATE.texts_sent() == []


def test_reconciliation_sends_waiting_texts(texts_on, shopper):
    shopper.buy()
    with texts_on.app_context():
        assert reconcile_once().texts_sent == 1
    assert [t.to for t in STATE.texts_sent()] == [PHONE]


def test_texts_go_out_after_the_response(texts_on, shopper):
    """The checkout does not wait for the SMS API: the text leaves once the response is sent."""
    texts_on.config["SMS_SEND_AFTER_RESPONSE"] = True
    redirect = shopper.buy()
    assert redirect.status_code == 303
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = outbox("received")
        if found and found[0].status == "sent":
            break
        time.sleep(0.05)
    assert found[0].status == "sent" and [t.to for t in STATE.texts_sent()] == [PHONE]


def test_log_provider_writes_the_text_to_the_log(app, shopper, caplog):
    app.config["SMS_PROVIDER"] = "log"
    caplog.set_level(logging.INFO, logger="notifications.devlog")
    shopper.buy()
    assert sms.deliver() == 1
    order = db.session.scalars(select(Order)).one()
    assert f"SMS (SMS_PROVIDER=log, not sent) to {PHONE}" in caplog.text and order.reference in caplog.text
