"""End to end through the simulated PayUnit (issues 3 and 20): the customer goes to
PayUnit's page and comes back to the ``callback_url`` (a GET there is a return
landing); only the invoice API is believed."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import requests

from extensions import db
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.helpers import events, only_order, stock_of, text_of

SEED = Path(__file__).resolve().parents[1] / "data" / "payunit_seed_003.txt"  # see tests/data/README.md
CREDS = SIM_CREDENTIALS["payunit"]


def sim_headers(user=CREDS["api_user"], password=CREDS["api_password"], key=CREDS["api_key"], mode="test"):
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {basic}", "x-api-key": key, "mode": mode,
            "Content-Type": "application/json"}


def buy_in_xaf(shopper, slug="pagne-wax-6-yards", quantity=1):
    shopper.set_market("XAF")
    shopper.add_to_cart(slug, quantity)
    return shopper.checkout(gateway="payunit")


def pay_link(shopper, response) -> str:
    """Checkout sends the customer straight to PayUnit's invoice page."""
    assert response.status_code == 303
    link = response.headers["Location"]
    assert "/_sim/payunit/invoice/" in link
    return link


def test_purchase_pays_and_the_browser_comes_back_through_the_callback_url(shopper):
    before = stock_of("pagne-wax-6-yards")
    response = buy_in_xaf(shopper, quantity=2)
    link = pay_link(shopper, response)

    page = shopper.http.post(link, data={"action": "pay", "phone": "677000000"}, allow_redirects=False)
    payment = only_order().payments[0]
    assert page.status_code == 303  # PayUnit sends the browser to callback_url after paying
    assert page.headers["Location"].endswith(f"/payments/callback/payunit/{payment.reference}")
    landing = shopper.get(page.headers["Location"])  # the browser follows: GET, a return landing
    assert landing.status_code == 200 and f"/orders/{payment.order.token}" in landing.url
    assert "Payment received" in text_of(landing)

    order = only_order()
    assert order.status == "paid" and order.currency == "XAF" and order.total == 30000
    payment = order.payments[0]
    assert payment.status == "succeeded" and payment.gateway_ref2.startswith("INV-")
    assert stock_of("pagne-wax-6-yards") == before - 2
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))
    invoice = STATE.get(payment.gateway_ref)
    assert invoice.request["items"] == [{"name": "Pagne wax 6 yards", "amount": 15000, "quantity": 2}]
    assert invoice.request["callback_url"].endswith(f"/payments/callback/payunit/{payment.reference}")
    assert invoice.request["partial_payment"] is False and invoice.request["type"] == "NORMAL"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", invoice.request["due_date"])


def test_declined_attempt_leaves_the_invoice_payable(shopper):
    """A declined mobile-money attempt does not close a PayUnit invoice: still pending, payable."""
    link = pay_link(shopper, buy_in_xaf(shopper))
    shopper.http.post(link, data={"action": "decline", "phone": "677000000"})
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending" and payment.status == "pending"
    note = events(payment, "callback")[0].note
    assert "claims FAILED" in note and "gateway says pending" in note

    shopper.http.post(link, data={"action": "pay", "phone": "677000000"})
    db.session.expire_all()
    assert order.status == "paid"


def test_pay_another_way_after_a_decline(shopper):
    link = pay_link(shopper, buy_in_xaf(shopper))
    shopper.http.post(link, data={"action": "decline", "phone": "677000000"})
    order = only_order()
    page = shopper.post(f"/orders/{order.token}/abandon", csrf_from=f"/orders/{order.token}", follow=True)
    assert "Choose how you want to pay" in text_of(page)
    db.session.expire_all()
    assert order.payments[0].status == "cancelled"
    assert 'value="payunit"' in page.text  # the retry form is offered


def test_forged_paid_callback_while_the_invoice_is_unpaid(shopper):
    """A10: whatever the callback says, the invoice API decides."""
    buy_in_xaf(shopper)
    payment = only_order().payments[0]
    url = shopper.url(f"/payments/callback/payunit/{payment.reference}")
    forged = {"transaction_status": "SUCCESS", "transaction_amount": "15000", "invoice_id": payment.gateway_ref}
    assert requests.post(url, json=forged, timeout=10).status_code == 200
    assert requests.post(url, data="not even json", timeout=10).status_code == 200
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    assert len(events(payment, "callback")) == 2


def test_callback_without_reference_or_for_unknown_payment(shopper):
    assert requests.post(shopper.url("/payments/callback/payunit"), json={}, timeout=10).status_code == 400
    response = requests.post(shopper.url("/payments/callback/payunit/PAY-UNKNOWN"), json={}, timeout=10)
    assert response.status_code == 404


def test_wrong_credentials_are_refused_by_the_simulator(shopper):
    url = shopper.url("/_sim/payunit/api/gateway/invoice/create")
    for headers in (sim_headers(password="wrong"), sim_headers(key="live_wrong"), sim_headers(mode="")):
        response = requests.post(url, headers=headers, json={}, timeout=10)
        assert response.status_code == 401
        assert response.json()["status"] == "FAILED" and response.json()["statusCode"] == 401


def test_shop_with_wrong_credentials_tells_the_customer(shopper, app):
    app.config["PAYUNIT_API_USER"] = "someone"
    app.config["PAYUNIT_API_PASSWORD"] = "wrong"
    app.config["PAYUNIT_API_KEY"] = "wrong"
    app.config["PAYUNIT_BASE_URL"] = app.config["PUBLIC_BASE_URL"] + "/_sim/payunit/"
    response = buy_in_xaf(shopper)
    assert response.status_code == 502
    assert "could not open the payment" in text_of(response)
    note = events(only_order().payments[0], "create-failed")[0].note
    assert "Invalid API credentials" in note and "wrong" not in note


def seed_json(marker: str, end: str) -> dict:
    """A JSON example from seed 003: the text after ``marker`` up to ``end``."""
    text = SEED.read_text()
    start = text.index(marker) + len(marker)
    return json.loads(text[start:text.index(end, start)])


def types_of(value):
    """The JSON shape of ``value``: the same nesting with type names for leaves."""
    if isinstance(value, dict):
        return {k: types_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [types_of(value[0])] if value else []
    return type(value).__name__


def test_seed_example_request_is_accepted_and_answered_with_the_seeds_types(shopper):
    body = seed_json("--data-raw '", "'")
    response = requests.post(shopper.url("/_sim/payunit/api/gateway/invoice/create"),
                             headers=sim_headers(mode="live"), json=body, timeout=10)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "SUCCESS" and answer["statusCode"] == 200
    seed_answer = seed_json("Response body:\n\n \n", "\nParameterDescription")
    # every field of the seed's answer, with the seed's types (numbers at the top, strings in items)
    assert types_of(answer) == types_of(seed_answer)
    invoice = answer["data"]["invoice"]
    assert invoice["total_amount"] == 120000 and invoice["amount_paid"] == 0
    assert invoice["items"][0]["amount"] == "30000" and invoice["items"][0]["quantity"] == "4"
    assert invoice["company"]["name"] and invoice["custom_billing_company"] == body["custom_billing_company"]


def invoice_body(callback_url: str) -> dict:
    return {"client_name": "A", "client_email": "a@example.cm", "client_phone_number": "677000000",
            "due_date": "2026-12-01T10:00:00.000Z", "partial_payment": False, "type": "NORMAL",
            "currency": "XAF", "callback_url": callback_url,
            "items": [{"name": "x", "amount": 100, "quantity": 1}]}


def test_https_is_required_in_every_mode_except_towards_the_local_shop(shopper):
    """Seed 003: "All URLs must utilize HTTPS protocol { callback_url, logo }", no test exception."""
    url = shopper.url("/_sim/payunit/api/gateway/invoice/create")
    for mode in ("live", "test", "TEST"):
        refused = requests.post(url, headers=sim_headers(mode=mode), json=invoice_body("http://shop.example/cb"),
                                timeout=10)
        assert refused.status_code == 400 and "HTTPS" in refused.json()["message"]
        logo = {**invoice_body("https://shop.example/cb"),
                "custom_billing_company": {"name": "x", "logo": "http://shop.example/logo.png"}}
        assert requests.post(url, headers=sim_headers(mode=mode), json=logo, timeout=10).status_code == 400
        assert requests.post(url, headers=sim_headers(mode=mode), json=invoice_body("https://shop.example/cb"),
                             timeout=10).status_code == 200
    local = requests.post(url, headers=sim_headers(mode="test"), json=invoice_body("http://127.0.0.1:9/cb"),
                          timeout=10)
    assert local.status_code == 200


def test_mode_header_is_read_without_regard_to_case(shopper):
    url = shopper.url("/_sim/payunit/api/gateway/invoice/create")
    for mode in ("Live", "TEST", "test"):
        response = requests.post(url, headers=sim_headers(mode=mode), json=invoice_body("https://a.example/c"),
                                 timeout=10)
        assert response.status_code == 200, mode
    assert requests.post(url, headers=sim_headers(mode="staging"), json={}, timeout=10).status_code == 401


def test_shop_refuses_a_plain_http_callback_url_when_payunit_is_real(shopper, app):
    """Not the simulator: our own plain-http callback URL is refused before PayUnit is called."""
    app.config.update(PAYUNIT_API_USER=CREDS["api_user"], PAYUNIT_API_PASSWORD=CREDS["api_password"],
                      PAYUNIT_API_KEY=CREDS["api_key"], PAYUNIT_MODE="Test",
                      PAYUNIT_BASE_URL="https://payunit.invalid/")
    response = buy_in_xaf(shopper)
    assert response.status_code == 502
    assert "not HTTPS" in events(only_order().payments[0], "create-failed")[0].note
    assert not STATE.invoices  # PayUnit was never asked


def test_browser_landing_on_the_callback_url_before_paying(shopper):
    """The customer comes back without paying: the landing asks, the order page says waiting."""
    buy_in_xaf(shopper)
    payment = only_order().payments[0]
    landing = shopper.get(f"/payments/callback/payunit/{payment.reference}")
    assert landing.status_code == 200 and "Waiting for your payment" in text_of(landing)
    assert shopper.get("/payments/callback/payunit/PAY-UNKNOWN").status_code == 404
    db.session.expire_all()
    assert payment.status == "pending" and events(payment, "return")


def test_get_on_another_gateways_callback_url_is_not_a_landing(shopper):
    shopper.buy()  # LigdiCash: its browser comes back to return_url, never to the callback URL
    payment = only_order().payments[0]
    response = shopper.get(f"/payments/callback/ligdicash/{payment.reference}")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_status_api_reports_amounts_as_strings(shopper):
    """The invoice details (status API): amounts as strings, as the provider notes record."""
    buy_in_xaf(shopper)
    payment = only_order().payments[0]
    details = requests.get(shopper.url(f"/_sim/payunit/invoice/get/{payment.gateway_ref}"),
                           headers=sim_headers(), timeout=10).json()["data"]
    assert details["amount_paid"] == "0" and details["remaining_amount"] == "15000"
    assert details["total_amount"] == "15000" and details["status"] == "UNPAID"


def test_amount_mismatch_is_flagged(shopper):
    """C1: the invoice API reports another total: never paid."""
    STATE.set_faults("payunit", amount_delta=1000)
    link = pay_link(shopper, buy_in_xaf(shopper))
    shopper.http.post(link, data={"action": "pay", "phone": "677000000"})
    payment = only_order().payments[0]
    assert payment.status == "pending" and payment.attention_kind == "amount_mismatch"


def test_odd_types_from_the_invoice_api_keep_the_payment_open_and_flagged(shopper):
    """Bad input from PayUnit (status 7, "30,000 XAF", null): never a 500, never a 503 forever."""
    STATE.set_faults("payunit", status="odd")
    link = pay_link(shopper, buy_in_xaf(shopper))
    page = shopper.http.post(link, data={"action": "pay", "phone": "677000000"}, allow_redirects=False)
    assert STATE.get(only_order().payments[0].gateway_ref).deliveries == ["json → 200"]
    landing = shopper.get(page.headers["Location"])
    assert landing.status_code == 200 and "Waiting for your payment" in text_of(landing)
    payment = only_order().payments[0]
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    assert payment.attention_kind == "unknown_status"
    assert "amounts '15,000 XAF'/'None'" in payment.attention
