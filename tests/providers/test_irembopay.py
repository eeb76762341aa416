"""IremboPay provider against the simulated IremboPay, over real HTTP (issue 4)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from payments.gateways import get_provider
from providers.base import Inbound, InvalidCallback, Line, PaymentRef, ProviderError
from providers.irembopay import IremboPay
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.providers.test_contract import sample_request

SECRET = SIM_CREDENTIALS["irembopay"]["secret_key"]


def api(base_url: str) -> str:
    return base_url + "/_sim/irembopay/payments/invoices"


def headers(secret: str = SECRET, version: str = "2") -> dict:
    return {"irembopay-secretKey": secret, "X-API-Version": version, "Content-Type": "application/json"}


def seed_example(reference: str = "TST-10001") -> dict:
    """The seed's documented request: every field, as its tables show them."""
    return {
        "transactionId": reference,
        "paymentAccountIdentifier": "SIM-RWF-ACCOUNT",
        "customer": {"email": "user@email.com", "phoneNumber": "0780000001", "name": "Jixle Manzi"},
        "paymentItems": [{"unitAmount": 2000, "quantity": 1, "code": "PC-aaf751b73f"}],
        "description": "Invoice description",
        "expiryAt": "2099-11-27T16:24:51.000+02:00",
        "language": "EN",
    }


def signed(body: bytes, secret: str = SECRET, t: int | None = None, spaced: bool = False) -> str:
    """An ``irembopay-signature`` computed here, independently of the code under test."""
    t = int(time.time() * 1000) if t is None else t
    s = hmac.new(secret.encode(), f"{t}#".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t}, s={s}" if spaced else f"t={t},s={s}"


def inbound(body: bytes, signature: str | None) -> Inbound:
    hdrs = {"Content-Type": "application/json"}
    if signature is not None:
        hdrs["Irembopay-Signature"] = signature
    return Inbound(headers=hdrs, body=body, form={}, query={},
                   url="http://127.0.0.1/payments/callback/irembopay", content_type="application/json")


NOTICE = json.dumps({"success": True, "data": {
    "amount": 2000, "currency": "RWF", "invoiceNumber": "880519183280",
    "transactionId": "PAY-SIGNED0001", "paymentStatus": "PAID",
    "createdAt": "2023-04-19T11:58:02.895+02", "paidAt": "2023-04-19T11:59:02.895+02"}}).encode()


# --- the create request -------------------------------------------------------

def test_create_sends_the_seed_request(app, ctx, base_url):
    """Headers, transactionId, product codes, account by currency, expiry format, language."""
    provider = get_provider("irembopay")
    request = replace(sample_request("RWF", base_url), language="en",
                      customer_phone="+250788123456",
                      expires_at=datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    hosted = provider.create(request)
    invoice = STATE.get(hosted.gateway_ref)
    body = invoice.request
    assert body["transactionId"] == request.reference == invoice.reference
    assert body["paymentAccountIdentifier"] == "SIM-RWF-ACCOUNT"
    assert body["paymentItems"] == [{"code": "PC-SIM-SHOP", "quantity": 1, "unitAmount": 5000}]
    assert body["expiryAt"] == "2099-01-02T03:04:05.000+00:00"
    assert body["language"] == "EN"
    assert body["customer"] == {"name": "Awa Ouédraogo", "email": "awa@example.bf",
                                "phoneNumber": "0788123456"}
    assert hosted.redirect_url == base_url + f"/_sim/irembopay/checkout/{hosted.gateway_ref}"
    assert {key: body[key] for key in hosted.sent} == hosted.sent  # what we log is what went


def test_product_codes_become_items_and_the_rest_one_default_line(app, ctx, base_url):
    provider = get_provider("irembopay")
    lines = (Line("Café", 2, 9000, 18000, "PC-CAFE"), Line("Savon", 3, 3200, 9600))
    request = replace(sample_request("RWF", base_url), lines=lines, amount=27600)
    hosted = provider.create(request)
    assert STATE.get(hosted.gateway_ref).request["paymentItems"] == [
        {"code": "PC-CAFE", "quantity": 2, "unitAmount": 9000},
        {"code": "PC-SIM-SHOP", "quantity": 1, "unitAmount": 9600},
    ]
    assert STATE.get(hosted.gateway_ref).amount == 27600


def test_usd_amounts_go_in_major_units(app, ctx, base_url):
    provider = get_provider("irembopay")
    lines = (Line("Théière", 1, 850, 850, "PC-TEA"), Line("Savon", 1, 250, 250))
    request = replace(sample_request("USD", base_url), lines=lines, amount=1100)
    hosted = provider.create(request)
    invoice = STATE.get(hosted.gateway_ref)
    assert invoice.request["paymentAccountIdentifier"] == "SIM-USD-ACCOUNT"
    assert invoice.request["paymentItems"][0]["unitAmount"] == Decimal("8.5")
    assert invoice.amount == Decimal("11.00") and invoice.currency == "USD"


def test_other_phones_are_left_out_and_language_maps(app, ctx, base_url):
    """A non-Rwandan phone would be BAD_CUSTOMER_CONTACT: only name and email are sent."""
    body = get_provider("irembopay").create_body(replace(sample_request("RWF", base_url), language="rw"))
    assert "phoneNumber" not in body["customer"] and body["language"] == "RW"


def test_status_new_is_pending_then_expired_after_expiry_at(app, ctx, base_url):
    provider = get_provider("irembopay")
    request = replace(sample_request("RWF", base_url),
                      expires_at=datetime.now(timezone.utc) + timedelta(seconds=1.2))
    hosted = provider.create(request)
    ref = PaymentRef(request.reference, hosted.gateway_ref, request.amount, "RWF")
    assert provider.fetch_status(ref).status == "pending"
    time.sleep(1.4)
    report = provider.fetch_status(ref)
    assert report.status == "expired"
    assert (report.amount, report.currency) == (5000, "RWF")


def test_status_paid_is_succeeded_with_amount(app, ctx, base_url):
    provider = get_provider("irembopay")
    request = sample_request("USD", base_url)
    hosted = provider.create(request)
    STATE.get(hosted.gateway_ref).status = "PAID"
    STATE.get(hosted.gateway_ref).request.update(paidAt="x", paymentMethod="MTN_MOMO", paymentReference="r")
    report = provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, "USD"))
    assert (report.status, report.amount, report.currency) == ("succeeded", 500000, "USD")


def test_create_error_code_is_in_the_provider_error(app, ctx, base_url):
    """G5: the documented code reaches the message the merchant's log gets."""
    provider = get_provider("irembopay")
    request = replace(sample_request("RWF", base_url), lines=(Line("X", 1, 5000, 5000, "NOPE-1"),), amount=5000)
    with pytest.raises(ProviderError, match="PRODUCT_NOT_FOUND"):
        provider.create(request)


def test_reused_transaction_id_is_refused(app, ctx, base_url):
    provider = get_provider("irembopay")
    provider.create(sample_request("RWF", base_url))
    with pytest.raises(ProviderError, match="DUPLICATE_TRANSACTION_ID"):
        provider.create(sample_request("RWF", base_url))


def test_account_of_another_currency_is_refused(app, ctx, base_url):
    """The account sets the currency: a USD order on an RWF account is never opened."""
    provider = get_provider("irembopay")
    provider.settings = {**provider.settings, "account_usd": "SIM-RWF-ACCOUNT"}
    with pytest.raises(ProviderError, match="is in RWF, not USD"):
        provider.create(sample_request("USD", base_url))


def test_a_currency_without_an_account_is_not_accepted():
    settings = {"secret_key": "k", "default_product_code": "PC-1", "account_rwf": "ACC-RWF"}
    assert IremboPay.accepts(settings, "RWF")
    assert not IremboPay.accepts(settings, "USD")
    assert not IremboPay.accepts({**settings, "account_xof": "A"}, "XOF")


def test_payment_link_elsewhere_is_refused(app, ctx):
    provider = get_provider("irembopay")
    assert provider._is_own_page("https://checkout.sandbox.irembopay.com/880519183280")
    assert not provider._is_own_page("https://checkout.irembopay.com.evil.example/1")
    assert not provider._is_own_page("http://checkout.irembopay.com/1")


# --- the simulator refuses as IremboPay does ------------------------------------

def test_simulator_accepts_the_seed_example(base_url):
    answer = requests.post(api(base_url), json=seed_example(), headers=headers(), timeout=10)
    assert answer.status_code == 201
    body = answer.json()
    assert body["success"] is True
    data = body["data"]
    assert data["transactionId"] == "TST-10001" and data["paymentStatus"] == "NEW"
    assert (data["amount"], data["currency"], data["type"]) == (2000, "RWF", "SINGLE")
    assert data["invoiceNumber"].isdigit() and data["paymentLinkUrl"].endswith(data["invoiceNumber"])
    got = requests.get(api(base_url) + "/TST-10001", headers=headers(), timeout=10).json()["data"]
    assert got["invoiceNumber"] == data["invoiceNumber"]
    by_number = requests.get(api(base_url) + "/" + data["invoiceNumber"], headers=headers(), timeout=10)
    assert by_number.json()["data"]["transactionId"] == "TST-10001"


@pytest.mark.parametrize("change, code", [
    ({"transactionId": ""}, "TRANSACTION_ID_MISSING"),
    ({"paymentItems": []}, "PRODUCT_MISSING"),
    ({"paymentItems": [{"code": "PC-1", "quantity": 0, "unitAmount": 10}]}, "BAD_PRODUCT"),
    ({"paymentItems": [{"code": "PC-1", "quantity": 1, "unitAmount": 10.5}]}, "BAD_PRODUCT"),
    ({"paymentAccountIdentifier": None}, "PAYMENT_ACCOUNT_MISSING"),
    ({"expiryAt": "2020-01-01T00:00:00.000+02:00"}, "BAD_EXPIRATION_DATE"),
    ({"expiryAt": "27/11/2099"}, "BAD_EXPIRATION_DATE"),
    ({"language": "de"}, "BAD_LANGUAGE"),
    ({"customer": {"phoneNumber": "+22670000000"}}, "BAD_CUSTOMER_CONTACT"),
    ({"customer": {"phoneNumber": "+250780000001"}}, "BAD_CUSTOMER_CONTACT"),  # neither Integer nor 07…
    ({"customer": {"phoneNumber": "780000001"}}, "BAD_CUSTOMER_CONTACT"),
    ({"customer": {"phoneNumber": 780000001.0}}, "BAD_CUSTOMER_CONTACT"),
    ({"customer": {"email": "not-an-email"}}, "BAD_CUSTOMER_CONTACT"),
    ({"paymentAccountIdentifier": "NO-SUCH-ACCOUNT"}, "PAYMENT_ACCOUNT_NOT_FOUND"),
    ({"paymentItems": [{"code": "XX-1", "quantity": 1, "unitAmount": 10}]}, "PRODUCT_NOT_FOUND"),
])
def test_simulator_refuses_bad_requests_with_the_documented_code(base_url, change, code):
    answer = requests.post(api(base_url), json={**seed_example(), **change}, headers=headers(), timeout=10)
    assert answer.status_code == 400
    body = answer.json()
    assert body["success"] is False and body["message"]
    assert body["errors"][0]["code"] == code
    assert not STATE.invoices


def test_simulator_refuses_a_reused_transaction_id(base_url):
    assert requests.post(api(base_url), json=seed_example(), headers=headers(), timeout=10).status_code == 201
    again = requests.post(api(base_url), json=seed_example(), headers=headers(), timeout=10)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "DUPLICATE_TRANSACTION_ID"
    assert len(STATE.invoices) == 1


def test_simulator_checks_secret_key_and_api_version(base_url):
    wrong = requests.post(api(base_url), json=seed_example(), headers=headers("nope"), timeout=10)
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["code"] == "AUTHENTICATION_FAILED"
    v1 = requests.post(api(base_url), json=seed_example(), headers=headers(version="1"), timeout=10)
    assert v1.status_code == 400 and not STATE.invoices
    get = requests.get(api(base_url) + "/TST-10001", headers=headers("nope"), timeout=10)
    assert get.status_code == 401


def test_unknown_invoice_is_not_found(base_url):
    answer = requests.get(api(base_url) + "/NOPE", headers=headers(), timeout=10)
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "INVOICE_NOT_FOUND"


# --- notification signatures (vectors computed in this file) ---------------------

def test_good_signature_is_verified(app, ctx):
    notice = get_provider("irembopay").parse_callback(inbound(NOTICE, signed(NOTICE)))
    assert notice.verified and notice.reference == "PAY-SIGNED0001"
    assert (notice.claimed_status, notice.amount, notice.currency) == ("succeeded", 2000, "RWF")
    assert notice.gateway_ref == "880519183280"


def test_header_with_spaces_is_verified(app, ctx):
    notice = get_provider("irembopay").parse_callback(inbound(NOTICE, signed(NOTICE, spaced=True)))
    assert notice.verified


@pytest.mark.parametrize("make, reason", [
    (lambda: inbound(NOTICE, None), "no irembopay-signature"),
    (lambda: inbound(NOTICE, signed(NOTICE, secret="other-secret")), "bad signature"),
    (lambda: inbound(NOTICE.replace(b"2000", b"2001"), signed(NOTICE)), "bad signature"),
    (lambda: inbound(NOTICE, signed(NOTICE, t=int(time.time() * 1000) - 301_000)), "tolerance"),
    (lambda: inbound(NOTICE, signed(NOTICE, t=int(time.time()))), "tolerance"),
    (lambda: inbound(NOTICE, "s=abc"), "malformed"),
    (lambda: inbound(NOTICE, signed(json.dumps(json.loads(NOTICE), indent=1).encode())), "bad signature"),
])
def test_bad_signatures_are_refused(app, ctx, make, reason):
    """A1-A4, A11: missing, wrong secret, one byte changed, stale, seconds not ms, re-serialised."""
    with pytest.raises(InvalidCallback, match=reason):
        get_provider("irembopay").parse_callback(make())


def test_tolerance_is_configurable(app, ctx):
    old = inbound(NOTICE, signed(NOTICE, t=int(time.time() * 1000) - 400_000))
    with pytest.raises(InvalidCallback):
        get_provider("irembopay").parse_callback(old)
    app.config["IREMBOPAY_SIGNATURE_TOLERANCE_SECONDS"] = "600"
    assert get_provider("irembopay").parse_callback(old).verified


def test_no_secret_fails_closed(app, ctx):
    """A5: without a secret nothing is accepted."""
    provider = get_provider("irembopay")
    provider.settings = {**provider.settings, "secret_key": ""}
    with pytest.raises(InvalidCallback, match="no IremboPay secret"):
        provider.parse_callback(inbound(NOTICE, signed(NOTICE, secret="")))


def test_amount_with_more_decimals_than_the_currency_is_not_read(app, ctx):
    body = NOTICE.replace(b'"amount": 2000', b'"amount": 2000.5')
    assert get_provider("irembopay").parse_callback(inbound(body, signed(body))).amount is None
