"""Paycashless: request signing, webhook verification, error mapping and retries,
against independently computed vectors and the simulator over real HTTP (issue 5)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import requests

from payments.gateways import gateway_settings
from providers.base import (
    CheckoutRequest,
    GatewayHTTP,
    Inbound,
    InvalidCallback,
    Line,
    PaymentRef,
    ProviderError,
    ProviderUnavailable,
)
from providers.paycashless import Paycashless, canonical_json, request_signature
from simulator import SIM_CREDENTIALS
from simulator.state import STATE

SECRET = SIM_CREDENTIALS["paycashless"]["api_secret"]
API_KEY = SIM_CREDENTIALS["paycashless"]["api_key"]


def hmac512(key: str, message: str | bytes) -> str:
    """Written here, independently of the provider: hex HMAC-SHA512."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key.encode(), data, hashlib.sha512).hexdigest()


def api_headers(path: str, body: bytes | None, *, secret: str = SECRET, timestamp: int | None = None,
                api_key: str = API_KEY) -> dict[str, str]:
    """Paycashless's documented request signature, computed in the test."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    message = path.lower() + (hmac512(secret, body) if body is not None else "") + ts
    return {"Authorization": f"Bearer {api_key}", "Request-Timestamp": ts,
            "Request-Signature": hmac512(secret, message), "Content-Type": "application/json"}


def sorted_compact(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checkout(base: str, reference: str = "PAY-PCL0000001", lines=None, currency: str = "NGN") -> CheckoutRequest:
    lines = lines or (Line("Café du Rwanda", 2, 1_750_000, 3_500_000),)
    return CheckoutRequest(
        reference=reference, order_reference="CMD-PCL00001", amount=sum(l.total for l in lines),
        currency=currency, lines=tuple(lines), customer_name="Adaeze Okafor",
        customer_email="ada@example.ng", customer_phone="+2348012345678", description="Comptoir — order",
        return_url=f"{base}/orders/tok/return?ref={reference}", cancel_url=f"{base}/orders/tok/cancel?ref={reference}",
        callback_url=f"{base}/payments/callback/paycashless/{reference}", order_url=f"{base}/orders/tok",
        expires_at=datetime.now(timezone.utc) + timedelta(minutes=30), store_url=base,
    )


class Recorder:
    """A real requests.Session that keeps every request it sent (no mock: it goes out)."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.sent: list[requests.PreparedRequest] = []
        self.session.hooks["response"].append(lambda response, **_: self.sent.append(response.request))


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.session.close()


@pytest.fixture
def provider(app, recorder) -> Paycashless:
    return Paycashless(gateway_settings(app.config, "paycashless"), GatewayHTTP(recorder.session, 2, "Paycashless"))


def sim_url(base_url: str, path: str) -> str:
    return f"{base_url}/_sim/paycashless{path}"


# -- signing ---------------------------------------------------------------------------------

def test_request_signature_matches_a_vector_computed_by_hand():
    """The body is sorted deeply, compact, UTF-8; integers stay integers; the path is lowercased."""
    body = {"items": [{"price": 100000, "name": "Ọjà"}], "currency": "NGN", "amount": {"value": 10000, "currency": "NGN"}}
    expected_bytes = ('{"amount":{"currency":"NGN","value":10000},"currency":"NGN",'
                      '"items":[{"name":"Ọjà","price":100000}]}').encode()
    assert canonical_json(body) == expected_bytes
    body_hash = hmac.new(b"k3y", expected_bytes, hashlib.sha512).hexdigest()
    expected = hmac.new(b"k3y", ("/v1/invoices" + body_hash + "1712336881").encode(), hashlib.sha512).hexdigest()
    assert request_signature("k3y", "/V1/Invoices", "1712336881", expected_bytes) == expected
    assert len(expected) == 128  # hex, not base64


def test_get_signature_has_no_body_hash():
    expected = hmac.new(b"k3y", b"/v1/invoices/inv_abc1712336881", hashlib.sha512).hexdigest()
    assert request_signature("k3y", "/v1/invoices/inv_abc", "1712336881", None) == expected


def test_create_sends_exactly_the_bytes_it_signed(provider, recorder, ctx, base_url):
    """B.2: Bearer key, Unix-seconds timestamp, signature over path + hash(sent bytes) + timestamp."""
    request = checkout(base_url)
    hosted = provider.create(request)
    sent = recorder.sent[0]
    assert sent.method == "POST" and sent.url == sim_url(base_url, "/v1/invoices")
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    ts = sent.headers["Request-Timestamp"]
    assert ts.isdigit() and abs(int(ts) - time.time()) < 10
    expected = hmac512(SECRET, "/v1/invoices" + hmac512(SECRET, sent.body) + ts)
    assert sent.headers["Request-Signature"] == expected
    body = json.loads(sent.body)
    assert sent.body == sorted_compact(body)  # sorted and compact on the wire
    assert not re.search(rb"[:,\[]-?\d+\.\d", sent.body)  # no JSON number with a fraction
    assert all(type(i["price"]) is int for i in body["items"])
    assert body["items"] == [{"name": "Café du Rwanda", "price": 1_750_000, "quantity": 2}]
    assert body["reference"] == request.reference and body["currency"] == "NGN"
    assert body["callbackUrl"] == request.callback_url and body["returnUrl"] == request.return_url
    assert body["acceptPartialPayments"] is False and body["autoFinalize"] is True
    assert body["daysUntilDue"] == 1
    assert body["customer"] == {"email": "ada@example.ng", "name": "Adaeze Okafor"}
    assert body["metadata"] == {"order_reference": "CMD-PCL00001", "payment_reference": request.reference}
    assert hosted.gateway_ref.startswith("inv_")
    assert hosted.redirect_url == sim_url(base_url, f"/invoicing/{hosted.gateway_ref}")


def test_status_check_is_a_signed_get_without_body(provider, recorder, ctx, base_url):
    request = checkout(base_url)
    hosted = provider.create(request)
    report = provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, "NGN"))
    sent = recorder.sent[-1]
    path = f"/v1/invoices/{hosted.gateway_ref}"
    assert sent.method == "GET" and sent.body is None
    ts = sent.headers["Request-Timestamp"]
    assert sent.headers["Request-Signature"] == hmac512(SECRET, path + ts)
    assert (report.status, report.amount, report.currency, report.amount_received) == ("pending", 3_500_000, "NGN", 0)


def test_more_than_twenty_lines_are_merged_and_still_add_up(provider, ctx, base_url):
    lines = [Line(f"Article {n}", 1 + n % 3, 10_000 + n, (1 + n % 3) * (10_000 + n)) for n in range(25)]
    request = checkout(base_url, lines=lines)
    hosted = provider.create(request)
    items = STATE.get(hosted.gateway_ref).request["items"]
    assert len(items) == 20
    assert items[:19] == [{"name": f"Article {n}", "quantity": 1 + n % 3, "price": 10_000 + n} for n in range(19)]
    assert items[19]["name"] == "6 more items" and items[19]["quantity"] == 1
    assert "Article 24" in items[19]["description"]
    assert sum(i["price"] * i["quantity"] for i in items) == request.amount


# -- the simulator refuses what Paycashless refuses ------------------------------------------

def valid_body(base_url: str, **changes) -> dict:
    body = {"reference": "PAY-DIRECT0001", "description": "direct", "currency": "NGN",
            "customer": {"email": "ada@example.ng", "name": "Ada"},
            "items": [{"name": "Item", "quantity": 1, "price": 500000}], "daysUntilDue": 30,
            "acceptPartialPayments": False, "autoFinalize": True,
            "callbackUrl": f"{base_url}/payments/callback/paycashless/PAY-DIRECT0001",
            "returnUrl": f"{base_url}/"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_invoice(base_url: str, data: bytes, headers: dict) -> requests.Response:
    return requests.post(sim_url(base_url, "/v1/invoices"), data=data, headers=headers, timeout=10)


def test_simulator_accepts_a_correctly_signed_invoice(base_url):
    data = sorted_compact(valid_body(base_url))
    response = post_invoice(base_url, data, api_headers("/v1/invoices", data))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "open" and response.json()["amountDue"] == 500000


@pytest.mark.parametrize("tamper", ["wrong secret", "altered body", "stale timestamp", "future timestamp",
                                    "no bearer", "body hash omitted", "float price"])
def test_simulator_refuses_bad_signatures(base_url, tamper):
    """A wrong signature, an altered body or a stale timestamp → 401 request_signature_invalid."""
    body = valid_body(base_url)
    data = sorted_compact(body)
    headers = api_headers("/v1/invoices", data)
    if tamper == "wrong secret":
        headers = api_headers("/v1/invoices", data, secret="not-the-secret")
    elif tamper == "altered body":
        data = sorted_compact({**body, "items": [{"name": "Item", "quantity": 1, "price": 5}]})
    elif tamper == "stale timestamp":
        headers = api_headers("/v1/invoices", data, timestamp=int(time.time()) - 301)
    elif tamper == "future timestamp":
        headers = api_headers("/v1/invoices", data, timestamp=int(time.time()) + 301)
    elif tamper == "no bearer":
        del headers["Authorization"]
    elif tamper == "body hash omitted":
        headers = api_headers("/v1/invoices", None)
    elif tamper == "float price":  # what Python would send for 500000.0: JavaScript reads 500000
        data = data.replace(b'"price":500000', b'"price":500000.0')
        headers = api_headers("/v1/invoices", data)
    response = post_invoice(base_url, data, headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "authentication_error" and error["code"] == "request_signature_invalid"
    assert error["message"]
    assert not STATE.invoices


@pytest.mark.parametrize("changes, reason", [
    ({"currency": "XOF"}, "currency"),
    ({"items": [{"name": f"Item {n}", "quantity": 1, "price": 100} for n in range(21)]}, "at most 20"),
    ({"items": []}, "items"),
    ({"daysUntilDue": 0}, "daysUntilDue"),
    ({"daysUntilDue": 1801}, "daysUntilDue"),
    ({"reference": None}, "reference"),
    ({"description": None}, "description"),
    ({"customer": None}, "customer"),
    ({"items": [{"name": "Item", "quantity": 1, "price": 10.5}]}, "integer price"),
    ({"callbackUrl": "not a url"}, "callbackUrl"),
    ({"maxInstallments": "3"}, "maxInstallments"),  # seed 004 line 172: a number
    ({"maxInstallments": True}, "maxInstallments"),
])
def test_simulator_validates_the_body(base_url, changes, reason):
    data = sorted_compact(valid_body(base_url, **changes))
    response = post_invoice(base_url, data, api_headers("/v1/invoices", data))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and reason in error["message"]


def test_simulator_retrieve_needs_a_signature(provider, ctx, base_url):
    hosted = provider.create(checkout(base_url))
    path = f"/v1/invoices/{hosted.gateway_ref}"
    good = requests.get(sim_url(base_url, path), headers=api_headers(path, None), timeout=10)
    assert good.status_code == 200 and good.json()["id"] == hosted.gateway_ref
    bad = requests.get(sim_url(base_url, path), headers=api_headers(path, None, secret="x"), timeout=10)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "request_signature_invalid"


# -- errors and retries ------------------------------------------------------------------------

def test_wrong_secret_is_a_clear_refusal(provider, ctx, base_url):
    provider.settings = {**provider.settings, "api_secret": "not-the-secret"}
    with pytest.raises(ProviderError, match="refused our API key or signature.*request_signature_invalid"):
        provider.create(checkout(base_url))


def test_validation_error_is_reported_with_its_reason(provider, ctx, base_url):
    with pytest.raises(ProviderError, match="rejected the invoice.*reference is required"):
        provider.create(checkout(base_url, reference=""))


def test_duplicate_reference_is_a_conflict(provider, ctx, base_url):
    provider.create(checkout(base_url))
    with pytest.raises(ProviderError, match="conflict"):
        provider.create(checkout(base_url))


@pytest.mark.parametrize("fault", ["http429", "http500"])
def test_create_is_never_retried(provider, recorder, ctx, base_url, fault):
    """G: a create that may have reached the gateway is not sent twice."""
    STATE.set_faults("paycashless", create=fault)
    with pytest.raises(ProviderUnavailable):
        provider.create(checkout(base_url))
    assert len(recorder.sent) == 1


@pytest.mark.parametrize("fault", ["http503x2", "http429x2"])
def test_status_check_retries_429_and_5xx_with_backoff(provider, recorder, ctx, base_url, fault):
    request = checkout(base_url)
    hosted = provider.create(request)
    STATE.set_faults("paycashless", status=fault)
    started = time.monotonic()
    report = provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, "NGN"))
    assert report.status == "pending"
    assert [r.method for r in recorder.sent] == ["POST", "GET", "GET", "GET"]
    assert time.monotonic() - started < 3


def test_status_check_gives_up_quickly(provider, recorder, ctx, base_url):
    request = checkout(base_url)
    hosted = provider.create(request)
    STATE.set_faults("paycashless", status="http500")
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, "NGN"))
    assert time.monotonic() - started < 4
    assert 2 <= len(recorder.sent) - 1 <= 4


def test_status_of_another_payments_invoice_is_refused(provider, ctx, base_url):
    request = checkout(base_url)
    hosted = provider.create(request)
    with pytest.raises(ProviderError, match="another payment"):
        provider.fetch_status(PaymentRef("PAY-SOMEONEELSE", hosted.gateway_ref, request.amount, "NGN"))


# -- webhooks ----------------------------------------------------------------------------------

URL = "http://127.0.0.1:5000/payments/callback/paycashless/PAY-PCL0000001"
DATA = {"id": "inv_0123456789abcdef", "reference": "PAY-PCL0000001", "status": "paid", "currency": "NGN",
        "amountDue": 3500000, "amountPaid": 3500000, "customer": {"name": "Adaeze Ọkafor"}}


def webhook(data: dict = DATA, *, secret: str = SECRET, url: str = URL, ts: int | None = None,
            event: str = "INVOICE_PAID") -> Inbound:
    """A webhook signed as Paycashless documents it, computed in the test."""
    timestamp = str(int(time.time()) if ts is None else ts)
    data_json = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    signature = hmac512(secret, url + hmac512(secret, data_json) + timestamp)
    body = json.dumps({"event": event, "data": data}, separators=(",", ":"), ensure_ascii=False).encode()
    return Inbound(headers={"Content-Type": "application/json", "Request-Signature": signature,
                            "Request-Timestamp": timestamp}, body=body, form={}, query={}, url=url,
                   content_type="application/json", path_reference="PAY-PCL0000001")


def test_signed_webhook_is_accepted_and_sent_to_the_status_api(provider):
    notice = provider.parse_callback(webhook())
    assert notice.reference == "PAY-PCL0000001"
    assert notice.gateway_ref == "inv_0123456789abcdef"
    assert notice.claimed_status == "succeeded"
    assert notice.verified is False  # the shop must ask GET /v1/invoices/{id}


def test_payment_event_names_its_invoice(provider):
    data = {"id": "pay_1", "invoiceId": "inv_0123456789abcdef", "amountPaid": 100, "currency": "NGN", "paid": True}
    notice = provider.parse_callback(webhook(data, event="INVOICE_PAYMENT_SUCCEEDED"))
    assert notice.reference is None and notice.gateway_ref == "inv_0123456789abcdef"


def test_webhook_signed_over_the_lowercased_url_is_accepted(provider):
    """The docs say both "exactly as provided" and "lowercased": either reading is accepted."""
    signed = webhook(url=URL.lower())
    provider.parse_callback(replace(signed, url=URL))


@pytest.mark.parametrize("case", ["wrong secret", "tampered data", "stale", "future", "other url",
                                  "no signature", "data not an object"])
def test_bad_webhooks_are_invalid(provider, case):
    inbound = webhook()
    if case == "wrong secret":
        inbound = webhook(secret="guess")
    elif case == "tampered data":
        inbound = replace(inbound, body=inbound.body.replace(b'"amountPaid":3500000', b'"amountPaid":3500001'))
    elif case == "stale":
        inbound = webhook(ts=int(time.time()) - 301)
    elif case == "future":
        inbound = webhook(ts=int(time.time()) + 301)
    elif case == "other url":
        inbound = replace(inbound, url=URL.replace("PAY-PCL0000001", "PAY-PCL0000002"))
    elif case == "no signature":
        inbound = replace(inbound, headers={"Content-Type": "application/json"})
    elif case == "data not an object":
        inbound = replace(inbound, body=b'{"event":"INVOICE_PAID","data":"x"}')
    with pytest.raises(InvalidCallback):
        provider.parse_callback(inbound)
