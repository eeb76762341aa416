"""End to end through the simulated IremboPay (issue 4): no browser return, so the
customer goes through their order page; a signed notification marks the order paid."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from decimal import Decimal

from sqlalchemy import select

from extensions import db
from models import Order, PaymentEvent, Product
from simulator import SIM_CREDENTIALS
from simulator.state import STATE
from tests.helpers import count, events, only_order, stock_of, text_of, transitions

SECRET = SIM_CREDENTIALS["irembopay"]["secret_key"]


def buy(shopper, currency="RWF", slug="cafe-rwanda", quantity=1):
    shopper.set_market(currency)
    shopper.add_to_cart(slug, quantity)
    return shopper.checkout(gateway="irembopay")


def pay_link(shopper, response) -> str:
    """G10: the customer is on their order page first; the way to IremboPay is its button."""
    assert response.status_code == 303, response.text[:300]
    assert re.search(r"/orders/[\w-]+$", response.headers["Location"])
    order_page = shopper.get(response.headers["Location"])
    assert "does not bring you back here by itself" in text_of(order_page)
    match = re.search(r'id="pay-at-gateway" href="([^"]+)"', order_page.text)
    assert match, "no link to IremboPay on the order page"
    return match.group(1)


def pay(shopper, link, phone="0781234567", method="MTN_MOMO", **extra):
    assert shopper.get(link).status_code == 200
    return shopper.http.post(link, data={"action": "pay", "method": method, "phone": phone, **extra},
                             allow_redirects=False, timeout=15)


def notify(shopper, body: bytes, signature: str):
    return shopper.http.post(shopper.url("/payments/callback/irembopay"), data=body, timeout=10,
                             headers={"Content-Type": "application/json", "irembopay-signature": signature})


def signature(body: bytes, secret=SECRET, t=None) -> str:
    t = int(time.time() * 1000) if t is None else t
    return f"t={t},s={hmac.new(secret.encode(), f'{t}#'.encode() + body, hashlib.sha256).hexdigest()}"


def paid_notification(payment, amount=None, currency=None) -> bytes:
    return json.dumps({"success": True, "data": {
        "invoiceNumber": payment.gateway_ref, "transactionId": payment.reference,
        "paymentStatus": "PAID", "amount": payment.amount if amount is None else amount,
        "currency": currency or payment.currency, "paidAt": "2024-05-24T16:30:45.000+02"}}).encode()


def test_purchase_lands_on_the_order_page_first_then_pays(shopper):
    before = stock_of("cafe-rwanda")
    link = pay_link(shopper, buy(shopper, quantity=2))
    assert "/_sim/irembopay/checkout/" in link

    page = pay(shopper, link)
    assert page.status_code == 200  # IremboPay's page does not send the browser back
    assert "Location" not in page.headers and "/orders/" not in page.text
    assert "Payment received" in text_of(page)

    order = only_order()
    assert order.status == "paid" and order.currency == "RWF" and order.total == 18000
    payment = order.payments[0]
    assert payment.status == "succeeded"
    assert stock_of("cafe-rwanda") == before - 2
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))
    invoice = STATE.get(payment.gateway_ref)
    assert invoice.reference == payment.reference and invoice.deliveries == ["notification → 200"]
    assert invoice.request["paymentItems"] == [{"code": "PC-SIM-SHOP", "quantity": 1, "unitAmount": 18000}]
    assert invoice.request["language"] == "EN"  # the order keeps the page language: English in the tests
    callback = events(payment, "callback")[0]
    assert callback.verified and "signature verified" in callback.note


def test_usd_purchase_by_card_in_major_units(shopper):
    link = pay_link(shopper, buy(shopper, "USD", "theiere-touareg"))
    pay(shopper, link, method="ONLINE_CARD", phone="", card_number="4242 4242 4242 4242")
    order = only_order()
    assert order.status == "paid" and order.total == 850
    invoice = STATE.get(order.payments[0].gateway_ref)
    assert invoice.amount == Decimal("8.50") and invoice.currency == "USD"
    assert invoice.request["paymentAccountIdentifier"] == "SIM-USD-ACCOUNT"


def test_merchant_product_codes_are_sent(shopper):
    """Per-product codes where set; the rest of the order under the default code."""
    db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda")).irembopay_product_code = "PC-CAFE"
    db.session.commit()
    shopper.set_market("RWF")
    shopper.add_to_cart("cafe-rwanda", 2)
    shopper.add_to_cart("savon-noir", 1)
    pay_link(shopper, shopper.checkout(gateway="irembopay"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.request["paymentItems"] == [
        {"code": "PC-CAFE", "quantity": 2, "unitAmount": 9000},
        {"code": "PC-SIM-SHOP", "quantity": 1, "unitAmount": 3200},
    ]


def test_declined_number_leaves_the_order_payable(shopper):
    link = pay_link(shopper, buy(shopper))
    page = pay(shopper, link, phone="0780123456")
    assert "declined" in text_of(page)
    order = only_order()
    assert order.status == "pending" and order.payments[0].status == "pending"
    pay(shopper, link, phone="0731234567", method="AIRTEL_MONEY")
    db.session.expire_all()
    assert order.status == "paid"


def test_duplicate_notification_makes_one_transition(shopper):
    """B1: the portal re-pushes the notification; the second changes nothing and is logged."""
    link = pay_link(shopper, buy(shopper))
    pay(shopper, link)
    repush = shopper.http.post(link + "/repush", timeout=10)
    assert repush.status_code == 200
    order = only_order()
    payment = order.payments[0]
    callbacks = events(payment, "callback")
    assert len(callbacks) == 2 and "already succeeded" in callbacks[1].note
    assert STATE.get(payment.gateway_ref).deliveries == ["notification → 200"] * 2
    assert order.status == "paid"
    assert len(transitions(payment, "succeeded")) == 1 and len(transitions(payment, "paid")) == 1


def test_forged_and_stale_notifications_change_nothing(shopper):
    """A1-A3: unsigned, wrong secret, stale: 400, logged, order still pending."""
    pay_link(shopper, buy(shopper))
    payment = only_order().payments[0]
    body = paid_notification(payment)
    stale = int(time.time() * 1000) - 301_000
    for sig in ("", signature(body, "wrong-secret"), signature(body, t=stale), signature(body, t=int(time.time()))):
        assert notify(shopper, body, sig).status_code == 400
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    rejected = db.session.scalars(select(PaymentEvent).where(PaymentEvent.kind == "callback")).all()
    assert len(rejected) == 4 and all(e.note.startswith("rejected") for e in rejected)
    assert SECRET not in " ".join(e.payload for e in rejected)


def test_signed_notification_with_another_amount_is_flagged_not_paid(shopper):
    """C1/C2: a valid signature does not make a wrong amount or currency paid."""
    pay_link(shopper, buy(shopper))
    payment = only_order().payments[0]
    for body in (paid_notification(payment, amount=1), paid_notification(payment, currency="USD")):
        assert notify(shopper, body, signature(body)).status_code == 200
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"
    assert payment.attention_kind == "amount_mismatch"
    assert all("not paid" in e.note for e in events(payment, "callback"))


def test_notification_naming_another_invoice_is_refused(shopper):
    """C3: our transactionId with another invoice's number is not applied."""
    pay_link(shopper, buy(shopper))
    payment = only_order().payments[0]
    body = paid_notification(payment).replace(payment.gateway_ref.encode(), b"999999999999")
    assert notify(shopper, body, signature(body)).status_code == 400
    db.session.expire_all()
    assert payment.status == "pending" and payment.order.status == "pending"


def test_simulated_amount_fault_is_flagged(shopper):
    STATE.set_faults("irembopay", amount_delta=-1000)
    pay(shopper, pay_link(shopper, buy(shopper)))
    payment = only_order().payments[0]
    assert payment.status == "pending" and payment.attention_kind == "amount_mismatch"


def test_lost_notification_is_found_by_get_invoice(shopper):
    """The notification never arrives: the order page asks Get Invoice by transactionId."""
    STATE.set_faults("irembopay", callbacks="none")
    pay(shopper, pay_link(shopper, buy(shopper)))
    order = only_order()
    assert order.status == "pending"
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))
    db.session.expire_all()
    assert order.status == "paid"
    check = events(order.payments[0], "status-check")[-1]
    assert '"paymentStatus": "PAID"' in check.payload and "order paid" in check.note


def test_create_error_code_reaches_the_log_and_a_clear_message(shopper):
    """G5: PRODUCT_NOT_FOUND: the customer is told plainly, the code is in the event log."""
    db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda")).irembopay_product_code = "NOT-REGISTERED"
    db.session.commit()
    response = buy(shopper)
    assert response.status_code == 502
    assert "IremboPay could not open the payment" in text_of(response)
    assert "Your cart is saved" in text_of(response)
    payment = only_order().payments[0]
    assert payment.status == "error"
    assert "PRODUCT_NOT_FOUND" in events(payment, "create-failed")[0].note


def test_unreachable_simulator_is_a_clear_message(shopper):
    STATE.set_faults("irembopay", create="http500")
    response = buy(shopper)
    assert response.status_code == 503 and "could not be reached" in text_of(response)


def test_a_currency_without_an_account_is_not_offered(shopper, app, base_url):
    """Real-style configuration (pointed at the simulator) with an RWF account only."""
    app.config.update(IREMBOPAY_SECRET_KEY=SECRET, IREMBOPAY_DEFAULT_PRODUCT_CODE="PC-SHOP",
                      IREMBOPAY_ACCOUNT_RWF="SIM-RWF-ACCOUNT",
                      IREMBOPAY_BASE_URL=base_url + "/_sim/irembopay/")
    shopper.set_market("USD")
    shopper.add_to_cart("cafe-rwanda")
    assert 'value="irembopay"' not in shopper.get("/checkout").text
    assert shopper.checkout(gateway="irembopay").status_code == 400
    assert count(Order) == 0

    shopper.set_market("RWF")
    shopper.add_to_cart("cafe-rwanda")
    assert 'value="irembopay"' in shopper.get("/checkout").text
    pay(shopper, pay_link(shopper, shopper.checkout(gateway="irembopay")))
    assert only_order().status == "paid"


def test_demo_offers_irembopay_for_rwf_and_usd_only(shopper):
    for currency, offered in (("RWF", True), ("USD", True), ("XOF", False), ("NGN", False)):
        shopper.set_market(currency)
        shopper.add_to_cart("cafe-rwanda")
        assert ('value="irembopay"' in shopper.get("/checkout").text) is offered, currency
