"""End to end through the simulated FCFPay (crypto priced in USD), over real HTTP (issue 6)."""
from __future__ import annotations

import pytest
import requests

from extensions import db
from payments.attention import describe
from simulator.state import STATE
from tests.helpers import events, only_order, text_of

#: ``pagne-wax-6-yards`` costs 25.00 USD in the demo catalogue.
PRICE = 2500


def buy_in_usd(shopper, slug: str = "pagne-wax-6-yards") -> requests.Response:
    """A USD cart checked out with FCFPay; returns the 303 to FCFPay's page."""
    shopper.set_market("USD")
    response = shopper.buy(slug, gateway="fcfpay")
    assert response.status_code == 303, text_of(response)[:300]
    return response


def deposit(shopper, redirect: requests.Response, amount: str | None = None,
            coin: str = "BTC") -> requests.Response:
    """On FCFPay's page, send crypto worth ``amount`` USD (None: all that is left); follow."""
    data = {"action": "pay", "coin": coin} if amount is None else \
        {"action": "deposit", "amount": amount, "coin": coin}
    return shopper.http.post(redirect.headers["Location"], data=data, timeout=15)


@pytest.fixture(autouse=True)
def exact_rate():
    """These journeys check the deposit arithmetic: the market rate does not move (the
    simulator's slippage and the tolerance have their own tests in test_purchase_fcfpay_rate.py)."""
    STATE.set_faults("fcfpay", rate_slippage_bp=0)


def fresh(payment):
    db.session.expire_all()
    return payment


def test_fcfpay_is_offered_for_usd_carts_only(shopper):
    shopper.add_to_cart("pagne-wax-6-yards")
    assert 'value="fcfpay"' not in shopper.get("/checkout").text  # XOF market
    shopper.set_market("USD")
    assert 'value="fcfpay"' in shopper.get("/checkout").text


def test_full_payment_ends_paid(shopper):
    """B1: one deposit of the whole amount; the callback names the order, check-order decides."""
    redirect = buy_in_usd(shopper)
    assert "/_sim/fcfpay/pay/" in redirect.headers["Location"]
    order = only_order()
    payment = order.payments[0]
    sim = next(iter(STATE.invoices.values()))
    assert sim.request["order_id"] == payment.reference
    assert sim.request["amount"] == "25.00" and sim.request["currency_name"] == "USD"
    page = shopper.get(redirect.headers["Location"])
    assert page.status_code == 200
    assert "Pagne wax 6 yards × 1 — 25.00 USD" in text_of(page)
    assert "Pay the remaining 25.00 USD" in text_of(page)

    landing = deposit(shopper, redirect)

    assert landing.url.startswith(shopper.base_url + f"/orders/{order.token}")
    assert "Payment received" in text_of(landing)
    db.session.expire_all()
    assert order.status == "paid" and payment.status == "succeeded"
    assert payment.amount_received == PRICE and payment.attention_kind is None
    assert sim.deliveries == ["json → 200"]
    assert sim.callback_url.endswith("/payments/callback/fcfpay")
    callback = events(payment, "callback")[0]
    assert "confirmed with check-order" in callback.note and "gateway says succeeded" in callback.note


def test_two_partial_deposits_pay_the_order(shopper):
    """Crypto in parts: 10.00 then 15.00 USD. Partially paid in between, paid at the end."""
    redirect = buy_in_usd(shopper)
    order = only_order()
    payment = order.payments[0]

    page = deposit(shopper, redirect, "10.00", coin="ETH")
    assert "/_sim/fcfpay/pay/" in page.url  # still on FCFPay's page, asked for the rest
    assert "Received 10.00 of 25.00 USD" in text_of(page)
    db.session.expire_all()
    assert order.status == "pending" and payment.status == "pending"
    assert payment.amount_received == 1000
    assert (payment.attention_kind, payment.attention_amount, payment.attention_expected) == ("partial", 1000, 2500)
    assert describe(payment) == "Partially paid: $10.00 of $25.00"
    order_page = text_of(shopper.get(f"/orders/{order.token}"))
    assert "Partially paid: $10.00 of $25.00 received. $15.00 still to pay." in order_page

    landing = deposit(shopper, redirect, "15.00", coin="USDT")
    assert "Payment received" in text_of(landing)
    fresh(payment)
    assert order.status == "paid" and payment.status == "succeeded"
    assert payment.amount_received == PRICE and payment.attention_kind is None
    sim = next(iter(STATE.invoices.values()))
    assert [tx["currency"] for tx in sim.txs] == ["ETH", "USDT"]
    assert sim.deliveries == ["json → 200", "json → 200"]


def test_underpaid_order_stays_pending_and_needs_attention(shopper):
    """C1: 5.00 of 25.00 arrives and nothing more: pending, flagged for the merchant."""
    redirect = buy_in_usd(shopper)
    deposit(shopper, redirect, "5.00")
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending" and payment.status == "pending"
    assert payment.attention_kind == "partial"
    assert "partially paid (500 of 2500)" in events(payment, "callback")[0].note
    assert "Waiting for your payment" in text_of(shopper.get(f"/orders/{order.token}"))


def test_overpayment_pays_and_is_flagged(shopper):
    """C1: 30.00 for a 25.00 order: paid, and the merchant is told to refund the difference."""
    redirect = buy_in_usd(shopper)
    landing = deposit(shopper, redirect, "30.00")
    assert "Payment received" in text_of(landing)
    order = only_order()
    payment = order.payments[0]
    assert order.status == "paid" and payment.status == "succeeded"
    assert payment.amount_received == 3000
    assert (payment.attention_kind, payment.attention_amount, payment.attention_expected) == ("overpaid", 3000, 2500)
    assert describe(payment) == "Overpaid: $30.00 received for $25.00"
    sim_page = shopper.get(next(iter(STATE.invoices.values())).page_path)
    assert "Order paid (overpaid by 5.00 USD)" in text_of(sim_page)


def test_unreadable_deposit_amount_is_refused_on_fcfpays_page(shopper):
    redirect = buy_in_usd(shopper)
    page = shopper.http.post(redirect.headers["Location"], timeout=15,
                             data={"action": "deposit", "amount": "ten", "coin": "BTC"})
    assert page.status_code == 400
    assert "Enter an amount such as 12.50" in text_of(page)
    assert next(iter(STATE.invoices.values())).txs == []


def test_forged_callback_for_an_unpaid_order_changes_nothing(shopper):
    """A10: FCFPay's callback is unsigned; a forged "Payment Received" is checked and ignored."""
    buy_in_usd(shopper)
    payment = only_order().payments[0]
    forged = {"success": True, "data": {"type": "deposit", "order_id": payment.reference},
              "message": "Payment Received"}
    response = shopper.http.post(shopper.url("/payments/callback/fcfpay"), json=forged, timeout=10)
    assert response.status_code == 200
    fresh(payment)
    assert payment.status == "pending" and payment.order.status == "pending"
    assert payment.attention_kind is None
    assert "gateway says pending" in events(payment, "callback")[0].note


def test_callbacks_for_unknown_orders_or_without_an_order_id_are_refused(shopper):
    unknown = {"success": True, "data": {"type": "deposit", "order_id": "PAY-NOTOURS"}}
    url = shopper.url("/payments/callback/fcfpay")
    assert shopper.http.post(url, json=unknown, timeout=10).status_code == 404
    assert shopper.http.post(url, json={"success": True}, timeout=10).status_code == 400
    assert shopper.http.post(url, data="not json", timeout=10).status_code == 400


def test_fcfpay_error_envelope_on_create(shopper):
    """G4: FCFPay says no (success false): a clear message, the cart kept, the reason logged."""
    STATE.set_faults("fcfpay", create="refuse")
    shopper.set_market("USD")
    response = shopper.buy(gateway="fcfpay")
    assert response.status_code == 502
    assert "FCFPay could not open the payment" in text_of(response)
    assert "Your cart is saved" in text_of(response)
    payment = only_order().payments[0]
    assert payment.status == "error"
    note = events(payment, "create-failed")[0].note
    assert note == "FCFPay refused the order: Your project is not active. Please contact FCF Pay support."


def test_wrong_api_key_reaches_the_event_log(shopper, app, base_url):
    """A merchant's wrong key: FCFPay's "Merchant Authentication problem!" is logged, never the key."""
    app.config["FCFPAY_API_KEY"] = "sk-wrong-key"
    app.config["FCFPAY_BASE_URL"] = base_url + "/_sim/fcfpay/api/v2/"
    shopper.set_market("USD")
    response = shopper.buy(gateway="fcfpay")
    assert response.status_code == 502
    payment = only_order().payments[0]
    logged = events(payment)
    assert "Merchant Authentication problem!" in logged[0].note
    assert all("sk-wrong-key" not in (e.payload or "") + e.note for e in logged)


def test_gateway_down_on_create_keeps_the_cart(shopper):
    STATE.set_faults("fcfpay", create="http500")
    shopper.set_market("USD")
    response = shopper.buy(gateway="fcfpay")
    assert response.status_code == 503
    assert "could not be reached" in text_of(response)
    assert "HTTP 500" in events(only_order().payments[0], "create-failed")[0].note


def test_lost_callback_is_caught_by_the_order_page(shopper):
    """No callback arrives: the return landing asks check-order and finds the deposit."""
    STATE.set_faults("fcfpay", callbacks="none")
    landing = deposit(shopper, buy_in_usd(shopper))
    assert "Payment received" in text_of(landing)
    payment = only_order().payments[0]
    assert payment.status == "succeeded"
    assert events(payment, "callback") == []
    assert events(payment, "return")


def test_tolerance_setting_pays_a_deposit_slightly_short(shopper, app):
    """FCFPAY_TOLERANCE_MINOR: crypto conversions rarely land on the cent."""
    app.config["FCFPAY_TOLERANCE_MINOR"] = "50"
    app.config["FCFPAY_TOLERANCE_PERCENT"] = "0"
    deposit(shopper, buy_in_usd(shopper), "24.60")
    order = only_order()
    assert order.status == "paid"
    assert order.payments[0].amount_received == 2460


def test_amount_mismatch_reported_by_fcfpay_is_flagged_never_paid(shopper):
    """C1: check-order's order_amount differs from ours: not paid, flagged."""
    STATE.set_faults("fcfpay", amount_delta=-500)
    deposit(shopper, buy_in_usd(shopper))
    payment = only_order().payments[0]
    assert payment.status == "pending" and payment.order.status == "pending"
    assert payment.attention_kind == "amount_mismatch"
