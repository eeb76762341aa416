"""The FCFPay provider against the simulated FCFPay, over real HTTP (issue 6)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests

from payments.gateways import gateway_settings, get_provider
from providers.base import Inbound, InvalidCallback, PaymentRef, ProviderError
from providers.fcfpay import LIVE_BASE_URL, SANDBOX_BASE_URL, FCFPay
from simulator.state import STATE
from tests.providers.test_contract import sample_request

#: The order object of FCFPay's check-orders example (docs, v2), for order "Test123".
DOCS_EXAMPLE = {
    "order_id": "Test123", "user_id": "1", "order_amount": 0, "total_fiat_amount": "54.75",
    "fiat_currency": "EUR",
    "txs": [
        {"deposited": True, "txid": "0x2788", "confirm_blocks": 24, "status": "deposited",
         "amount_usd": "33.89", "fiat_amount": "33.10", "fiat_currency": "EUR",
         "amount": "150000000000000000", "currency": "BSC", "fees": "210000000000000",
         "decimal": 18, "fee_decimal": 18, "date": "Jul 05 2022 03:02:35"},
        {"deposited": True, "txid": "0x2d54", "confirm_blocks": 22, "status": "deposited",
         "amount_usd": "22.47", "fiat_amount": "21.94", "fiat_currency": "EUR",
         "amount": "100000000000000000", "currency": "BSC", "fees": "210000000000000",
         "decimal": 18, "fee_decimal": 18, "date": "Jul 05 2022 03:02:35"},
    ],
}


@pytest.fixture
def provider(app, ctx) -> FCFPay:
    return get_provider("fcfpay")


@pytest.fixture(autouse=True)
def exact_rate():
    """These tests check the deposit arithmetic: the market rate does not move (the
    simulator's slippage has its own tests in tests/payments/test_purchase_fcfpay_rate.py)."""
    STATE.set_faults("fcfpay", rate_slippage_bp=0)


def deposit(page: str, amount: str | None = None) -> requests.Response:
    """The customer sends crypto worth ``amount`` (None: the whole remainder) on FCFPay's page."""
    data = {"action": "pay", "coin": "BTC"} if amount is None else \
        {"action": "deposit", "amount": amount, "coin": "ETH"}
    return requests.post(page, data=data, allow_redirects=False, timeout=10)


def ref_for(request) -> PaymentRef:
    return PaymentRef(request.reference, request.reference, request.amount, request.currency)


def test_create_order_body(provider, base_url):
    """Our reference is the order_id; amounts are decimal strings in major units, never floats."""
    request = sample_request("USD", base_url)
    hosted = provider.create(request)
    order = STATE.get(hosted.redirect_url.rsplit("/", 1)[-1])
    sent = order.request
    assert sent["order_id"] == request.reference == hosted.gateway_ref
    assert sent["amount"] == "5000.00" and sent["currency_name"] == "USD"
    assert sent["redirect_url"] == request.return_url
    assert sent["domain"] == "127.0.0.1"
    assert sent["order_date"] == datetime.now(timezone.utc).date().isoformat()
    assert sent["items"] == {"1": {"Item Name": "Pagne wax", "Quantity": "2",
                                   "Price": "2500.00", "Total": "5000.00"}}
    assert hosted.sent == sent and hosted.raw["data"]["payment_status"] == "waiting"


def test_eur_is_accepted_and_other_currencies_are_not(provider, base_url):
    assert provider.create(sample_request("EUR", base_url)).redirect_url
    with pytest.raises(ProviderError, match="USD or EUR"):
        provider.create(sample_request("XOF", base_url, reference="PAY-CONTRACT0002"))


def test_wrong_api_key_is_refused_with_fcfpays_message(provider, base_url):
    provider.settings = {**provider.settings, "api_key": "not-the-key"}
    with pytest.raises(ProviderError, match="Merchant Authentication problem!"):
        provider.create(sample_request("USD", base_url))


def test_duplicate_order_id_is_refused(provider, base_url):
    provider.create(sample_request("USD", base_url))
    with pytest.raises(ProviderError, match="already been taken"):
        provider.create(sample_request("USD", base_url))


def test_sandbox_switches_host_and_base_url_still_overrides(app, ctx):
    """Live by default; FCFPAY_SANDBOX=1 → sandbox.fcfpay.com; FCFPAY_BASE_URL wins over both."""
    app.config["FCFPAY_API_KEY"] = "live-key"
    settings = gateway_settings(app.config, "fcfpay")
    assert FCFPay(settings, None).url("check-order") == LIVE_BASE_URL + "check-order"
    app.config["FCFPAY_SANDBOX"] = "1"
    settings = gateway_settings(app.config, "fcfpay")
    assert FCFPay(settings, None).url("check-order") == SANDBOX_BASE_URL + "check-order"
    app.config["FCFPAY_BASE_URL"] = "https://proxy.example/fcf/api/v2/"
    settings = gateway_settings(app.config, "fcfpay")
    assert FCFPay(settings, None).url("check-order") == "https://proxy.example/fcf/api/v2/check-order"


def test_checkout_url_must_be_fcfpays_own_page(app, ctx):
    provider = FCFPay({"api_key": "k", "base_url": LIVE_BASE_URL, "sandbox": ""}, None)
    assert provider._is_checkout_page("https://checkout.fcfpay.com/pay/JDJ5")
    assert provider._is_checkout_page("https://checkout-sandbox.fcfpay.com/pay/JDJ5")
    assert not provider._is_checkout_page("http://checkout.fcfpay.com/pay/JDJ5")
    assert not provider._is_checkout_page("https://evil.example/pay/JDJ5")


def test_partial_deposits_then_paid(provider, base_url):
    """Crypto arrives in parts: pending with what arrived, then paid once the total is reached."""
    request = sample_request("USD", base_url)
    page = provider.create(request).redirect_url
    assert provider.fetch_status(ref_for(request)).amount_received == 0

    assert deposit(page, "1999.99").status_code == 303
    report = provider.fetch_status(ref_for(request))
    assert (report.status, report.amount, report.currency) == ("pending", 500000, "USD")
    assert report.amount_received == 199999

    assert deposit(page).headers["Location"] == request.return_url
    report = provider.fetch_status(ref_for(request))
    assert report.status == "succeeded" and report.amount_received == 500000
    txs = report.raw["txs"]
    assert len(txs) == 2 and all(tx["status"] == "deposited" for tx in txs)
    assert txs[0]["fiat_amount"] == "1999.99" and txs[0]["amount"].isdigit() and txs[0]["decimal"] == 18


def test_tolerance_pays_an_order_a_little_short(provider, base_url):
    provider.settings = {**provider.settings, "tolerance_minor": "100", "tolerance_percent": "0"}
    request = sample_request("USD", base_url)
    deposit(provider.create(request).redirect_url, "4999.00")
    report = provider.fetch_status(ref_for(request))
    assert report.status == "succeeded" and report.amount_received == 499900


def test_bad_tolerance_setting_is_a_clear_error(provider, base_url):
    provider.settings = {**provider.settings, "tolerance_minor": "0.5"}
    request = sample_request("USD", base_url)
    provider.create(request)
    with pytest.raises(ProviderError, match="FCFPAY_TOLERANCE_MINOR"):
        provider.fetch_status(ref_for(request))


def test_docs_example_counts_the_lower_of_total_and_deposits(provider):
    """The docs' total (54.75) is below the sum of its txs (55.04): we count 54.75."""
    report = provider.report(DOCS_EXAMPLE, PaymentRef("Test123", "Test123", 5475, "EUR"))
    assert (report.status, report.amount, report.currency) == ("succeeded", 5475, "EUR")
    assert report.amount_received == 5475


def test_unconfirmed_transactions_do_not_count(provider):
    waiting = {**DOCS_EXAMPLE["txs"][0], "deposited": False, "status": "waiting"}
    data = {**DOCS_EXAMPLE, "total_fiat_amount": 0, "txs": [waiting]}
    report = provider.report(data, PaymentRef("Test123", "Test123", 3310, "EUR"))
    assert report.status == "pending" and report.amount_received == 0
    assert "not counted" in report.note


def test_reported_order_amount_is_used_when_fcfpay_fills_it(provider, base_url):
    """A non-zero ``order_amount`` different from ours is reported, so the shop flags it."""
    STATE.set_faults("fcfpay", amount_delta=-100)
    request = sample_request("USD", base_url)
    deposit(provider.create(request).redirect_url)
    report = provider.fetch_status(ref_for(request))
    assert report.amount == 500000 - 100


def test_check_orders_leaves_out_unknown_ids(provider, base_url):
    request = sample_request("USD", base_url)
    provider.create(request)
    answer = provider.http.json("POST", provider.url("check-orders"), headers=provider._headers(),
                                json={"order_ids": [request.reference, "nope"]})
    assert answer["success"] is True and list(answer["data"]) == [request.reference]
    assert answer["data"][request.reference]["total_fiat_amount"] == 0


def test_callback_gives_only_the_order_id_and_is_never_verified(provider):
    body = {"success": True, "data": {"type": "deposit", "order_id": "PAY-ABC"}, "message": "Payment Received"}
    notice = provider.parse_callback(Inbound({}, json.dumps(body).encode(), {}, {},
                                             content_type="application/json"))
    assert notice.reference == "PAY-ABC"
    assert notice.verified is False and notice.claimed_status is None


@pytest.mark.parametrize("body", [b"[]", b'{"success": true}', b'{"data": {"order_id": ""}}',
                                  b'{"data": {"order_id": 12}}'])
def test_callback_without_an_order_id_is_invalid(provider, body):
    with pytest.raises(InvalidCallback):
        provider.parse_callback(Inbound({}, body, {}, {}, content_type="application/json"))


@pytest.mark.parametrize("body, message", [
    ({"amount": True}, "must be a decimal"),
    ({"amount": "25.001"}, "must be a decimal"),
    ({"amount": 25.001}, "must be a decimal"),
    ({"currency_name": "XOF"}, "Currency not supported"),
    ({"order_date": "26/04/2022"}, "format Y-m-d"),
    ({"domain": ""}, "domain field is required"),
    ({"items": {"1": {"Item Name": "x", "Quantity": "1", "Price": "1.00"}}}, "add up"),
])
def test_simulator_validates_create_order(provider, base_url, body, message):
    good = provider.create_body(sample_request("USD", base_url))
    response = requests.post(provider.url("create-order"), json={**good, **body},
                             headers=provider._headers(), timeout=10)
    assert response.status_code == 422
    assert response.json()["success"] is False and message in response.json()["message"]
