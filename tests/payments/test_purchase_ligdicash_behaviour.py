"""LigdiCash as it really behaves (issue 20): both failure spellings, unknown statuses,
the 3 s pacing of ``confirm``, ``devise`` in any case. Over real HTTP, simulator and shop."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from extensions import db
from merchant import actions
from models import Payment
from payments import pacing
from payments.reconcile import reconcile_once
from providers.ligdicash import read_status, whole_amount
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.helpers import events, only_order, text_of

CREDS = SIM_CREDENTIALS["ligdicash"]
HEADERS = {"Apikey": CREDS["api_key"], "Authorization": f"Bearer {CREDS['api_token']}",
           "Accept": "application/json"}  # seed 000: required


def invoice():
    return next(iter(STATE.invoices.values()))


def confirm(shopper, token: str) -> requests.Response:
    url = shopper.url("/_sim/ligdicash/pay/v01/redirect/checkout-invoice/confirm/")
    return requests.get(url, params={"invoiceToken": token}, headers=HEADERS, timeout=10)


# --- statuses ---------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["notcompleted", "nocompleted"])
def test_both_failure_spellings_fail_the_payment(shopper, spelling):
    """The docs' examples say notcompleted, the official JS/Dart SDKs nocompleted: both fail."""
    STATE.set_faults("ligdicash", failure_status=spelling)
    landing = shopper.on_gateway_page(shopper.buy(), "decline")
    assert "did not go through" in text_of(landing)
    order = only_order()
    assert order.payments[0].status == "failed" and order.status == "pending"
    assert json.loads(events(order.payments[0], "callback")[0].payload)["status"] == spelling
    assert invoice().deliveries == ["json → 200", "form → 200"]


def test_unknown_status_keeps_the_payment_open_flags_it_and_answers_200(shopper):
    """Not 503 forever: the raw value is recorded, the payment stays open, the merchant is told."""
    STATE.set_faults("ligdicash", failure_status="refunded")
    landing = shopper.on_gateway_page(shopper.buy(), "decline")
    assert landing.status_code == 200
    assert invoice().deliveries == ["json → 200", "form → 200"]
    payment = only_order().payments[0]
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    assert payment.attention_kind == "unknown_status" and "'refunded'" in payment.attention
    first = events(payment, "callback")[0]
    assert json.loads(first.payload)["status"] == "refunded"  # the raw value, kept
    assert "unknown status" in first.note


@pytest.mark.parametrize("status", [None, 3, ["completed"], {"a": 1}, "", "COMPLETED "])
def test_odd_status_types_are_read_or_flagged_never_a_crash(status):
    expected = "succeeded" if status == "COMPLETED " else None
    assert read_status(status) == expected


@pytest.mark.parametrize("value, expected", [
    (15000, 15000), ("15000", 15000), (" 15000 ", 15000), (15000.5, None), ("15 000", None),
    (True, None), (None, None), (-5, None), ([1], None),
])
def test_amounts_of_odd_types(value, expected):
    assert whole_amount(value) == expected


@pytest.mark.parametrize("body", [
    {"status": 5, "custom_data": 12},
    {"status": ["completed"], "custom_data": {"transaction_id": ["x"]}},
    {"custom_data": [1, None, "x"]},
])
def test_odd_callback_bodies_get_a_4xx_never_a_500(shopper, body):
    response = requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10)
    assert 400 <= response.status_code < 500


def test_odd_status_in_a_callback_for_a_real_payment_is_a_hint_only(shopper):
    shopper.buy()
    payment = only_order().payments[0]
    body = {"status": {"weird": True}, "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    response = requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10)
    assert response.status_code == 200
    assert "claims nothing readable" in events(payment, "callback")[0].note


# --- pacing ------------------------------------------------------------------------------

def test_one_confirm_for_the_json_and_form_callbacks_and_the_return(shopper):
    """Today's bug: confirmed twice ~90 ms apart, then by the return page. Now once."""
    STATE.set_faults("ligdicash", confirm_pacing=1)  # the gateway refuses a confirm < 3 s later
    landing = shopper.on_gateway_page(shopper.buy(), "pay")
    assert "Payment received" in text_of(landing)
    assert len(invoice().status_checks) == 1
    payment = only_order().payments[0]
    assert "pacing window" in events(payment, "callback")[1].note  # the form twin was not asked


def test_every_path_shares_the_pacing(shopper, app):
    """Order page, return landing, callback, dashboard re-check, reconciliation in quick
    succession: the return landing waits for the window to close and asks once more; the others
    say why they did not ask, and the gateway never had to refuse a confirm."""
    STATE.set_faults("ligdicash", callbacks="none", confirm_pacing=1)
    shopper.buy()
    order = only_order()
    payment = order.payments[0]
    for _ in range(3):
        assert shopper.get(f"/orders/{order.token}").status_code == 200
    shopper.get(f"/orders/{order.token}/return?ref={payment.reference}")
    assert len(invoice().status_checks) == 2  # the order page's, then the return's, 3 s later
    body = {"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    assert requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10).status_code == 200
    with app.app_context():
        fresh = db.session.get(Payment, payment.id)
        assert "could not be asked" in actions.recheck(fresh.order, fresh, "merchant@example.com")
        assert reconcile_once().checked == 0
    assert len(invoice().status_checks) == 2
    notes = [e.note for e in events(payment)]
    assert sum("pacing" in n for n in notes) == 3  # callback, its deferral, dashboard: each says why
    assert not any("429" in n for n in notes)
    time.sleep(3.5)  # the callback's confirmation, scheduled for the moment the window opened
    assert len(invoice().status_checks) == 3
    assert not any("429" in e.note for e in events(payment))


def test_a_customer_back_from_the_gateway_sees_the_payment_inside_the_window(shopper):
    """The order page asked a moment ago; the customer pays and comes back at once: the return
    landing waits out LigdiCash's 3 s and the page says paid, without asking too soon."""
    STATE.set_faults("ligdicash", confirm_pacing=1)
    redirect = shopper.buy()
    order = only_order()
    shopper.get(f"/orders/{order.token}")  # asks now: the callbacks that follow are inside the window
    landing = shopper.on_gateway_page(redirect, "pay")
    assert "Payment received" in text_of(landing)
    assert not any("429" in e.note for e in events(order.payments[0]))


def test_a_callback_inside_the_window_is_confirmed_when_it_opens(shopper):
    """A callback inside the window is answered 200 at once and confirmed when the window
    opens (issue 30), without the customer or reconciliation having to ask."""
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    order = only_order()
    payment = order.payments[0]
    shopper.get(f"/orders/{order.token}")  # asks: pending
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "phone": "22670000000"},
                      allow_redirects=False)
    body = {"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    response = requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10)
    assert response.status_code == 200
    db.session.expire_all()
    assert payment.status == "pending"  # not asked: inside the window
    assert "pacing window" in events(payment, "callback")[-1].note
    assert "confirmation scheduled" in events(payment, "callback-deferred")[-1].note
    time.sleep(3.5)
    db.session.expire_all()
    assert payment.status == "succeeded"
    assert len(invoice().status_checks) == 2
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))


def test_two_processes_cannot_both_claim_a_check(shopper, app):
    """The claim is one conditional UPDATE: of many racing callers, exactly one may ask."""
    shopper.buy()
    payment_id = only_order().payments[0].id
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def claim():
        with app.app_context():
            payment = db.session.get(Payment, payment_id)
            barrier.wait()
            results.append(pacing.claim_status_check(payment, 3.0))
            db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 5 + [True]


def test_the_simulator_records_confirms_and_can_refuse_one_too_soon(shopper):
    shopper.buy()
    token = only_order().payments[0].gateway_ref
    assert confirm(shopper, token).status_code == 200
    assert confirm(shopper, token).status_code == 200  # off by default: LigdiCash documents no refusal
    STATE.set_faults("ligdicash", confirm_pacing=1)
    refused = confirm(shopper, token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3"
    checks = invoice().status_checks
    assert len(checks) == 3 and checks == sorted(checks)


# --- devise --------------------------------------------------------------------------------

@pytest.mark.parametrize("devise, accepted", [("XOF", True), ("xof", True), ("Xof", True), ("XAF", False),
                                              (None, False)])
def test_simulator_accepts_devise_in_any_case(shopper, app, devise, accepted):
    """The official SDKs send "xof"; the seed only says "Toujours XOF"."""
    from payments.gateways import get_provider
    from providers.ligdicash import CREATE_PATH
    from tests.providers.test_contract import sample_request

    with app.app_context():
        provider = get_provider("ligdicash")
        body = provider.create_body(sample_request("XOF", app.config["PUBLIC_BASE_URL"]))
        url = provider.url(CREATE_PATH)
        headers = provider._headers()
    body["commande"]["invoice"]["devise"] = devise
    answer = requests.post(url, json=body, headers=headers, timeout=10).json()
    assert (answer["response_code"] == "00") is accepted, answer


def test_odd_types_from_confirm_keep_the_payment_open_and_flagged(shopper):
    """Bad input from LigdiCash (status 7, amount "15,000", montant null): 200 to its callbacks,
    the payment open, the merchant told; never a 500."""
    STATE.set_faults("ligdicash", status="odd")
    landing = shopper.on_gateway_page(shopper.buy(), "pay")
    assert landing.status_code == 200 and "Waiting for your payment" in text_of(landing)
    assert invoice().deliveries == ["json → 200", "form → 200"]
    payment = only_order().payments[0]
    db.session.expire_all()
    assert payment.status == "pending" and payment.attention_kind == "unknown_status"
    assert "reported '7'" in payment.attention
