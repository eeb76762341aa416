"""End to end through the simulated Paycashless (NGN, USD), over real HTTP (issue 5)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from sqlalchemy import select

from extensions import db
from models import PaymentEvent
from payments.attention import describe
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.helpers import count, events, only_order, stock_of, text_of

SECRET = SIM_CREDENTIALS["paycashless"]["api_secret"]


def buy_in_naira(shopper, slug: str = "pagne-wax-6-yards", quantity: int = 1) -> requests.Response:
    shopper.set_market("NGN")
    shopper.add_to_cart(slug, quantity)
    return shopper.checkout(gateway="paycashless")


def pay_without_coming_back(shopper, redirect: requests.Response, action: str = "pay") -> requests.Response:
    """Act on the hosted invoice page but do not follow the redirect (the shop is not told)."""
    return shopper.http.post(redirect.headers["Location"], data={"action": action}, allow_redirects=False,
                             timeout=15)


def the_invoice():
    invoices = list(STATE.invoices.values())
    assert len(invoices) == 1
    return invoices[0]


def hmac512(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha512).hexdigest()


def signed_webhook(url: str, data: dict, *, ts: int | None = None, secret_hash=hmac512,
                   event: str = "INVOICE_PAID") -> tuple[bytes, dict]:
    """A webhook signed as the Paycashless docs describe, computed here."""
    timestamp = str(int(time.time()) if ts is None else ts)
    data_json = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    signature = secret_hash(url + secret_hash(data_json) + timestamp)
    body = ('{"event":"' + event + '","data":' + data_json + "}").encode()
    return body, {"Content-Type": "application/json", "Request-Signature": signature, "Request-Timestamp": timestamp}


def rejections() -> list[PaymentEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(PaymentEvent).where(
        PaymentEvent.gateway == "paycashless", PaymentEvent.payment_id.is_(None)).order_by(PaymentEvent.id)))


def wait_for(condition, seconds: float = 8.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_checkout_offers_paycashless_for_naira_and_dollars(shopper):
    for currency in ("NGN", "USD"):
        shopper.set_market(currency)
        shopper.add_to_cart("cafe-rwanda")
        assert 'value="paycashless"' in shopper.get("/checkout").text
    shopper.set_market("XOF")
    assert 'value="paycashless"' not in shopper.get("/checkout").text


def test_full_purchase_in_naira_ends_paid(shopper):
    """B1/B9: two signed webhooks, each confirmed with GET /v1/invoices/{id}; one transition."""
    before = stock_of("pagne-wax-6-yards")
    redirect = buy_in_naira(shopper, quantity=2)
    assert redirect.status_code == 303
    assert "/_sim/paycashless/invoicing/inv_" in redirect.headers["Location"]
    page = shopper.get(redirect.headers["Location"])
    assert "₦70,000.00" in text_of(page)  # 2 × ₦35,000.00, sent in kobo

    landing = shopper.on_gateway_page(redirect, "pay")

    assert landing.status_code == 200
    assert "Payment received" in text_of(landing)
    order = only_order()
    assert order.status == "paid" and order.total == 7_000_000 and order.currency == "NGN"
    payment = order.payments[0]
    invoice = the_invoice()
    assert payment.status == "succeeded" and payment.gateway_ref == invoice.token
    assert invoice.amount == 7_000_000 and invoice.request["reference"] == payment.reference
    assert invoice.deliveries == ["INVOICE_PAYMENT_SUCCEEDED → 200", "INVOICE_PAID → 200"]
    callbacks = events(payment, "callback")
    assert len(callbacks) == 2
    assert "signature valid" in callbacks[0].note and "gateway says succeeded" in callbacks[0].note
    assert "already succeeded" in callbacks[1].note
    assert stock_of("pagne-wax-6-yards") == before - 2


def test_purchase_in_dollars(shopper):
    shopper.set_market("USD")
    shopper.add_to_cart("pagne-wax-6-yards")
    redirect = shopper.checkout(gateway="paycashless")
    assert the_invoice().request["currency"] == "USD"
    assert the_invoice().request["items"][0]["price"] == 2500  # cents
    landing = shopper.on_gateway_page(redirect, "pay")
    assert "Payment received" in text_of(landing)
    assert only_order().status == "paid"


def test_forged_stale_and_tampered_webhooks_change_nothing(shopper, base_url):
    """A3/A4/A5: the invoice is paid at Paycashless but the shop has not heard; forged,
    replayed (stale) and tampered webhooks are refused before any status check."""
    STATE.set_faults("paycashless", callbacks="none")
    redirect = buy_in_naira(shopper)
    pay_without_coming_back(shopper, redirect)
    payment = only_order().payments[0]
    invoice = the_invoice()
    assert invoice.status == "paid"
    url = f"{base_url}/payments/callback/paycashless/{payment.reference}"
    data = {"id": invoice.token, "reference": payment.reference, "status": "paid",
            "amountDue": 3_500_000, "amountPaid": 3_500_000, "currency": "NGN"}

    def forged_hash(message: str) -> str:
        return hmac.new(b"guessed-secret", message.encode(), hashlib.sha512).hexdigest()

    forged = signed_webhook(url, data, secret_hash=forged_hash)
    stale = signed_webhook(url, data, ts=int(time.time()) - 6 * 60)
    body, headers = signed_webhook(url, {**data, "amountPaid": 3_500_000})
    tampered = (body.replace(b'"amountDue":3500000', b'"amountDue":1'), headers)
    for body, headers in (forged, stale, tampered):
        response = requests.post(url, data=body, headers=headers, timeout=10)
        assert response.status_code == 400

    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    assert events(payment, "callback") == [] and events(payment, "status-check") == []
    notes = [e.note for e in rejections()]
    assert notes == ["rejected: bad webhook signature",
                     "rejected: stale webhook: Request-Timestamp is more than 5 minutes off",
                     "rejected: bad webhook signature"]

    body, headers = signed_webhook(url, data)  # the genuine article
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
    db.session.expire_all()
    assert payment.status == "succeeded" and payment.order.status == "paid"


def test_webhook_naming_another_invoice_is_refused(shopper, base_url):
    buy_in_naira(shopper)
    payment = only_order().payments[0]
    url = f"{base_url}/payments/callback/paycashless/{payment.reference}"
    body, headers = signed_webhook(url, {"id": "pay_1", "invoiceId": "inv_notthisone", "amountPaid": 1},
                                   event="INVOICE_PAYMENT_SUCCEEDED")
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == 400
    db.session.expire_all()
    assert payment.status == "pending"
    assert "not the stored gateway id" in events(payment, "callback")[0].note


def test_endpoint_down_for_the_first_delivery_the_retry_pays(shopper, app):
    """B7: the first webhook attempts hit a closed port (our endpoint down); the
    simulator retries and the retry pays the order (no page visit in between)."""
    app.config["SIM_WEBHOOK_RETRY_SECONDS"] = 0.3
    STATE.set_faults("paycashless", callbacks="down-first")
    redirect = buy_in_naira(shopper)
    pay_without_coming_back(shopper, redirect)
    invoice = the_invoice()
    assert invoice.deliveries[:2] == ["INVOICE_PAYMENT_SUCCEEDED failed: ConnectionError",
                                      "INVOICE_PAID failed: ConnectionError"]
    order = only_order()
    assert order.status == "pending"

    assert wait_for(lambda: len(invoice.deliveries) == 4)  # both retried once
    assert invoice.deliveries[2:] == ["INVOICE_PAYMENT_SUCCEEDED → 200", "INVOICE_PAID → 200"]
    assert order.status == "paid" and order.payments[0].status == "succeeded"
    assert events(order.payments[0], "status-check") == []  # the webhook did it, not the order page


def test_shop_answering_503_is_retried(shopper, app):
    """The status API fails during the first webhook, so the shop answers 503 and the
    simulator delivers it again later; nothing is lost and the order is paid once."""
    app.config["SIM_WEBHOOK_RETRY_SECONDS"] = 0.3
    STATE.set_faults("paycashless", status="http503x4")  # the first status check's 4 attempts
    redirect = buy_in_naira(shopper)
    pay_without_coming_back(shopper, redirect)
    invoice = the_invoice()
    assert invoice.deliveries[:2] == ["INVOICE_PAYMENT_SUCCEEDED → 503", "INVOICE_PAID → 200"]
    assert wait_for(lambda: len(invoice.deliveries) == 3)
    assert invoice.deliveries[2] == "INVOICE_PAYMENT_SUCCEEDED → 200"
    order = only_order()
    assert order.status == "paid"
    assert "status check failed" in events(order.payments[0], "callback")[0].note


def test_partially_paid_invoice_is_not_paid_and_is_flagged(shopper):
    """C1: a short bank transfer makes the invoice partially_paid: the order stays
    unpaid, the payment is flagged; paying the rest pays it and clears the flag."""
    redirect = buy_in_naira(shopper)
    answer = pay_without_coming_back(shopper, redirect, "partial")
    assert answer.status_code == 303
    invoice = the_invoice()
    assert invoice.status == "partially_paid"
    assert invoice.deliveries == ["INVOICE_PAYMENT_SUCCEEDED → 200"]
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending" and payment.status == "pending"
    assert payment.amount_received == 1_750_000
    assert (payment.attention_kind, payment.attention_amount, payment.attention_expected) == ("partial", 1750000, 3500000)
    assert describe(payment) == "Partially paid: ₦17,500.00 of ₦35,000.00"
    assert "Partially paid: ₦17,500.00 of ₦35,000.00 received" in text_of(shopper.get(f"/orders/{order.token}"))

    landing = shopper.http.post(redirect.headers["Location"], data={"action": "pay"}, timeout=15)
    assert "Payment received" in text_of(landing)
    db.session.expire_all()
    assert order.status == "paid" and payment.amount_received == 3_500_000
    assert payment.attention_kind is None


def test_cancelled_invoice_cancels_the_attempt_and_retry_succeeds(shopper):
    redirect = buy_in_naira(shopper)
    landing = shopper.on_gateway_page(redirect, "cancel")
    assert "Payment cancelled" in text_of(landing)
    order = only_order()
    assert order.status == "pending" and order.payments[0].status == "cancelled"

    retry = shopper.post(f"/orders/{order.token}/pay", {"gateway": "paycashless"},
                         csrf_from=f"/orders/{order.token}")
    landing = shopper.on_gateway_page(retry, "pay")
    assert "Payment received" in text_of(landing)
    db.session.expire_all()
    assert [p.status for p in order.payments] == ["cancelled", "succeeded"]


def test_amount_mismatch_is_flagged_never_paid(shopper):
    """C1: the gateway's invoice says another amount: not paid, flagged."""
    STATE.set_faults("paycashless", amount_delta=-100)
    shopper.on_gateway_page(buy_in_naira(shopper), "pay")
    order = only_order()
    assert order.status == "pending"
    assert order.payments[0].attention_kind == "amount_mismatch"


def test_wrong_secret_is_a_clear_error_and_keeps_the_order(shopper, app, base_url):
    """Configured credentials (PAYCASHLESS_*) with a wrong secret: 401 → the customer
    is told, the order kept, the reason logged."""
    app.config.update(PAYCASHLESS_API_KEY=SIM_CREDENTIALS["paycashless"]["api_key"],
                      PAYCASHLESS_API_SECRET="not-the-secret",
                      PAYCASHLESS_BASE_URL=f"{base_url}/_sim/paycashless/")
    response = buy_in_naira(shopper)
    assert response.status_code == 502
    assert "could not open the payment" in text_of(response)
    payment = only_order().payments[0]
    assert payment.status == "error"
    assert "request_signature_invalid" in events(payment, "create-failed")[0].note
    assert not STATE.invoices


def test_rate_limited_create_is_not_retried(shopper):
    STATE.set_faults("paycashless", create="http429")
    response = buy_in_naira(shopper)
    assert response.status_code == 503
    assert "could not be reached" in text_of(response)
    assert "rate limiting" in events(only_order().payments[0], "create-failed")[0].note
    assert count(PaymentEvent) == 2  # the failed create, and the attempt's move to error
    assert events(only_order().payments[0], "transition")[0].status_after == "error"
