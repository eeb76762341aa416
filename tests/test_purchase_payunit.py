"""End to end through the simulated PayUnit (issue 3): no browser return, so the
customer goes through their order page, and only the invoice API is believed."""
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

#: PayUnit's documented create-invoice page (provenance: tests/data/README.md).
SEED = Path(__file__).resolve().parent / "data" / "payunit_create_invoice.txt"
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
    """The customer is on their order page; the link to PayUnit is the main button."""
    assert response.status_code == 303
    order_page = shopper.get(response.headers["Location"])
    assert "does not bring you back here by itself" in text_of(order_page)
    match = re.search(r'id="pay-at-gateway" href="([^"]+)"', order_page.text)
    assert match, "no link to PayUnit on the order page"
    return match.group(1)


def test_purchase_lands_on_the_order_page_first_then_pays(shopper):
    before = stock_of("pagne-wax-6-yards")
    response = buy_in_xaf(shopper, quantity=2)
    assert "/orders/" in response.headers["Location"]
    link = pay_link(shopper, response)
    assert "/_sim/payunit/invoice/" in link

    page = shopper.http.post(link, data={"action": "pay", "phone": "677000000"}, allow_redirects=False)
    assert page.status_code == 200  # PayUnit's page does not send the browser back
    assert "Invoice paid" in text_of(page)

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


def test_seed_example_request_is_accepted_by_the_simulator(shopper):
    text = SEED.read_text()
    body = json.loads(text[text.index("--data-raw '") + len("--data-raw '"):text.index("'", text.index("--data-raw '") + 12)])
    response = requests.post(shopper.url("/_sim/payunit/api/gateway/invoice/create"),
                             headers=sim_headers(mode="live"), json=body, timeout=10)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "SUCCESS" and answer["statusCode"] == 200
    assert answer["data"]["link"] and answer["data"]["invoice"]["uuid"]
    assert answer["data"]["invoice"]["total_amount"] == "120000"


def test_live_mode_requires_https_urls(shopper):
    body = {"client_name": "A", "client_email": "a@example.cm", "client_phone_number": "677000000",
            "due_date": "2026-12-01T10:00:00.000Z", "partial_payment": False, "type": "NORMAL",
            "currency": "XAF", "callback_url": "http://shop.example/cb",
            "items": [{"name": "x", "amount": 100, "quantity": 1}]}
    url = shopper.url("/_sim/payunit/api/gateway/invoice/create")
    refused = requests.post(url, headers=sim_headers(mode="live"), json=body, timeout=10)
    assert refused.status_code == 400 and "HTTPS" in refused.json()["message"]
    assert requests.post(url, headers=sim_headers(mode="test"), json=body, timeout=10).status_code == 200


def test_status_api_reports_amounts_as_strings(shopper):
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
