"""FCFPay converts crypto at a market rate (issue 20): deposits land a little under the fiat
total; the shop pays within FCFPAY_TOLERANCE_PERCENT / FCFPAY_TOLERANCE_MINOR, records the
shortfall and flags it. The simulator's create-invoice and numeric amounts. Real HTTP."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from extensions import db
from payments.gateways import get_provider
from providers.base import PaymentRef, ProviderError
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.helpers import events, only_order, text_of
from tests.providers.test_contract import sample_request

SEED = Path(__file__).resolve().parents[1] / "data" / "fcfpay_seed_002.txt"  # see tests/data/README.md
HEADERS = {"Authorization": f"Bearer {SIM_CREDENTIALS['fcfpay']['api_key']}"}
PRICE = 2500  # pagne-wax-6-yards, USD cents


def buy_and_pay(shopper) -> requests.Response:
    """A USD cart through FCFPay; on its page, send the whole quoted amount; follow back."""
    shopper.set_market("USD")
    redirect = shopper.buy("pagne-wax-6-yards", gateway="fcfpay")
    assert redirect.status_code == 303
    return shopper.http.post(redirect.headers["Location"], data={"action": "pay", "coin": "BTC"}, timeout=15)


def test_default_slippage_and_tolerance_pay_and_record_the_shortfall(shopper):
    """25 bp of slippage (the simulator's default) is inside the 0.5 % default tolerance."""
    landing = buy_and_pay(shopper)
    assert "Payment received" in text_of(landing)
    payment = only_order().payments[0]
    assert payment.status == "succeeded" and payment.order.status == "paid"
    short = PRICE - payment.amount_received
    assert payment.amount_received == 2493 and short == 7  # 25.00 × 0.9975, rounded down
    assert payment.attention_kind is None  # within the tolerance: paid, shown on the order, not flagged
    assert any("paid short by 7" in e.note for e in events(payment))
    tx = next(iter(STATE.invoices.values())).txs[0]
    assert tx["fiat_amount"] == "24.93"  # the quoted 25.00 of BTC, converted 25 bp lower


def test_slippage_beyond_the_tolerance_stays_pending_and_is_flagged(shopper):
    STATE.set_faults("fcfpay", rate_slippage_bp=100)  # 1 %: 25.00 → 24.75
    landing = buy_and_pay(shopper)
    assert "Partially paid" in text_of(landing) and "24.75" in text_of(landing)
    payment = only_order().payments[0]
    assert payment.status == "pending" and payment.amount_received == 2475
    assert payment.attention_kind == "partial"


def test_percent_tolerance_is_configurable(shopper, app):
    app.config["FCFPAY_TOLERANCE_PERCENT"] = "1"
    STATE.set_faults("fcfpay", rate_slippage_bp=100)
    buy_and_pay(shopper)
    payment = only_order().payments[0]
    assert payment.status == "succeeded" and payment.amount_received == 2475
    assert payment.attention_kind is None


def test_absolute_tolerance_alone_is_enough(shopper, app):
    """Either allowance suffices: 0 % but 30 cents covers a 25-cent shortfall."""
    app.config.update(FCFPAY_TOLERANCE_PERCENT="0", FCFPAY_TOLERANCE_MINOR="30")
    STATE.set_faults("fcfpay", rate_slippage_bp=100)
    buy_and_pay(shopper)
    assert only_order().payments[0].status == "succeeded"


def test_no_tolerance_means_every_cent(shopper, app):
    app.config.update(FCFPAY_TOLERANCE_PERCENT="0", FCFPAY_TOLERANCE_MINOR="0")
    buy_and_pay(shopper)
    payment = only_order().payments[0]
    assert payment.status == "pending" and payment.amount_received == 2493


@pytest.mark.parametrize("percent", ["abc", "-1", "101", "NaN"])
def test_bad_percent_setting_is_a_clear_error(app, ctx, base_url, percent):
    provider = get_provider("fcfpay")
    provider.settings = {**provider.settings, "tolerance_percent": percent}
    request = sample_request("USD", base_url)
    provider.create(request)
    with pytest.raises(ProviderError, match="FCFPAY_TOLERANCE_PERCENT"):
        provider.fetch_status(PaymentRef(request.reference, request.reference, request.amount, "USD"))


def test_tolerance_rounds_down_on_the_order_total(app, ctx):
    provider = get_provider("fcfpay")
    provider.settings = {**provider.settings, "tolerance_percent": "0.5", "tolerance_minor": "0"}
    assert provider.tolerance(2500) == 12 and provider.tolerance(199) == 0
    provider.settings = {**provider.settings, "tolerance_minor": "20"}
    assert provider.tolerance(2500) == 20


# --- the simulator, as FCFPay documents it -------------------------------------------------

def seed_body() -> dict:
    """The cURL example of seed 002 (create-invoice, ``"amount": 30``)."""
    text = SEED.read_text()
    start = text.index("--data-raw '") + len("--data-raw '")
    return json.loads(text[start:text.index("}'", start) + 1])


def test_seed_create_invoice_example_is_accepted(shopper):
    body = seed_body()
    assert body["amount"] == 30  # a number, as the seed's own example sends it
    response = requests.post(shopper.url("/_sim/fcfpay/api/v2/create-invoice"), json=body,
                             headers=HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is True and answer["data"]["payment_status"] == "waiting"
    assert re.search(r"/_sim/fcfpay/pay/\S+$", answer["data"]["checkout_page_url"])
    assert "Invoice successfully created" in answer["message"]
    check = requests.post(shopper.url("/_sim/fcfpay/api/v2/check-order"), json={"order_id": "1234"},
                          headers=HEADERS, timeout=10).json()
    assert check["data"]["order_amount"] == "30.00"


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "name field is required"),
    ({"amount": "abc"}, "must be a decimal"),
    ({"currency_name": "XOF"}, "Currency not supported"),
    ({"amount": 31}, "add up"),
])
def test_create_invoice_is_validated(shopper, change, message):
    response = requests.post(shopper.url("/_sim/fcfpay/api/v2/create-invoice"), json={**seed_body(), **change},
                             headers=HEADERS, timeout=10)
    assert response.status_code == 422 and message in response.json()["message"]


def test_create_order_takes_a_numeric_amount(app, ctx, base_url):
    provider = get_provider("fcfpay")
    body = {**provider.create_body(sample_request("USD", base_url)), "amount": 5000, "items": None}
    body.pop("items")
    response = requests.post(provider.url("create-order"), json=body, headers=provider._headers(), timeout=10)
    assert response.status_code == 200 and response.json()["success"] is True
    db.session.remove()
