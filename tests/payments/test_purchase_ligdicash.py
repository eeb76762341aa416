"""End to end through the simulated LigdiCash, over real HTTP (issue 2)."""
from __future__ import annotations

from extensions import db
from models import Order, Payment
from simulator.state import STATE
from tests.helpers import count, events, only_order, stock_of, text_of


def test_full_purchase_ends_paid_and_stock_moves_once(shopper):
    """B1/B9: LigdiCash calls back twice (JSON and form); one transition, one stock move."""
    before = stock_of("pagne-wax-6-yards")
    redirect = shopper.buy("pagne-wax-6-yards", quantity=2)
    assert redirect.status_code == 303
    assert "/_sim/ligdicash/pay/invoice/" in redirect.headers["Location"]

    landing = shopper.on_gateway_page(redirect, "pay")

    assert landing.status_code == 200
    assert "Payment received" in text_of(landing)
    order = only_order()
    assert order.status == "paid" and order.paid_at is not None
    assert order.total == 2 * 15000 and order.currency == "XOF"
    payment = order.payments[0]
    assert payment.status == "succeeded"
    assert stock_of("pagne-wax-6-yards") == before - 2
    callbacks = events(payment, "callback")
    assert len(callbacks) == 2
    assert "pacing window" in callbacks[1].note  # the form twin ~ms later: answered, not asked
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.deliveries == ["json → 200", "form → 200"]
    assert len(invoice.status_checks) == 1  # one confirm for two callbacks and the return (issue 20)
    assert invoice.amount == 30000  # whole francs, as LigdiCash wants


def test_invoice_matches_database_prices_not_the_browser(shopper):
    """E1: a price field posted with the cart is ignored; the gateway is asked for the DB price."""
    shopper.add_to_cart("savon-noir", 3, price="1", total="1", unit_price="1")
    redirect = shopper.checkout(total="10", amount="10")
    assert redirect.status_code == 303
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.request["commande"]["invoice"]["total_amount"] == 3 * 1500
    assert invoice.request["commande"]["invoice"]["items"][0]["unit_price"] == 1500
    assert only_order().total == 4500


def test_decline_fails_the_payment_and_retry_succeeds(shopper):
    redirect = shopper.buy()
    landing = shopper.on_gateway_page(redirect, "decline")
    assert "did not go through" in text_of(landing)
    order = only_order()
    assert order.status == "pending"
    assert order.payments[0].status == "failed"

    retry = shopper.post(f"/orders/{order.token}/pay", {"gateway": "ligdicash"},
                         csrf_from=f"/orders/{order.token}")
    landing = shopper.on_gateway_page(retry, "pay")
    assert "Payment received" in text_of(landing)
    db.session.expire_all()
    assert [p.status for p in order.payments] == ["failed", "succeeded"]
    assert order.status == "paid"


def test_cancel_cancels_the_attempt_and_retry_succeeds(shopper):
    before = stock_of("pagne-wax-6-yards")
    redirect = shopper.buy()
    landing = shopper.on_gateway_page(redirect, "cancel")
    assert "Payment cancelled" in text_of(landing)
    order = only_order()
    assert order.status == "pending"
    assert order.payments[0].status == "cancelled"
    assert stock_of("pagne-wax-6-yards") == before - 1  # still reserved for the retry

    retry = shopper.post(f"/orders/{order.token}/pay", {"gateway": "ligdicash"},
                         csrf_from=f"/orders/{order.token}")
    shopper.on_gateway_page(retry, "pay")
    db.session.expire_all()
    assert order.status == "paid"
    assert [p.status for p in order.payments] == ["cancelled", "succeeded"]
    assert stock_of("pagne-wax-6-yards") == before - 1


def test_forged_completed_callback_is_not_trusted(shopper):
    """A10: the callback says completed, confirm says pending: the order stays pending."""
    shopper.buy()
    payment = only_order().payments[0]
    forged = {
        "status": "completed", "amount": 15000, "montant": 15000, "token": "",
        "custom_data": [{"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}],
    }
    response = shopper.http.post(shopper.url("/payments/callback/ligdicash"), json=forged, timeout=10)
    assert response.status_code == 200
    db.session.expire_all()
    assert payment.status == "pending"
    assert payment.order.status == "pending"
    note = events(payment, "callback")[0].note
    assert "claims succeeded" in note and "gateway says pending" in note


def test_gateway_500_on_create_keeps_order_and_cart(shopper):
    """G1/G4: a clear message, the order kept, the payment in error with its reason."""
    STATE.set_faults("ligdicash", create="http500")
    response = shopper.buy()
    assert response.status_code == 503
    assert "could not be reached" in text_of(response)
    assert "Your cart is saved" in text_of(response)
    order = only_order()
    assert order.status == "pending"
    payment = order.payments[0]
    assert payment.status == "error"
    assert "HTTP 500" in events(payment, "create-failed")[0].note
    cart = shopper.get("/cart").text
    assert '<span id="cart-count">1</span>' in cart and "Pagne wax 6 yards" in cart


def test_gateway_timeout_then_retry_reuses_the_same_order(shopper, app):
    """G2/G3: the create call times out; submitting again makes no second order."""
    STATE.set_faults("ligdicash", create="timeout")
    shopper.add_to_cart("bissap-seche")
    key = shopper.checkout_key()
    response = shopper.checkout(key=key)
    assert response.status_code == 503
    assert "timed out" in events(only_order().payments[0], "create-failed")[0].note

    STATE.set_faults("ligdicash", create="")
    again = shopper.checkout(key=key)
    assert again.status_code == 303
    assert count(Order) == 1
    order = only_order()
    assert [p.status for p in order.payments] == ["error", "pending"]


def test_refused_invoice_message_and_event(shopper):
    STATE.set_faults("ligdicash", create="refuse")
    response = shopper.buy()
    assert response.status_code == 502
    assert "could not open the payment" in text_of(response)
    payment = only_order().payments[0]
    assert "Echec (Code04)" in events(payment, "create-failed")[0].note


def test_submitting_checkout_twice_makes_one_order(shopper):
    """F4: the same form posted twice (double click) gives one order and one invoice."""
    shopper.add_to_cart("cafe-rwanda")
    key = shopper.checkout_key()
    first = shopper.checkout(key=key)
    second = shopper.checkout(key=key)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Order) == 1 and count(Payment) == 1
    assert len(STATE.invoices) == 1


def test_return_page_alone_proves_nothing(shopper):
    """D1: landing on the return URL (even with status=paid) leaves the order pending."""
    shopper.buy()
    order = only_order()
    payment = order.payments[0]
    page = shopper.get(f"/orders/{order.token}/return?ref={payment.reference}&status=completed")
    assert page.status_code == 200
    assert "Waiting for your payment" in text_of(page)
    db.session.expire_all()
    assert order.status == "pending" and payment.status == "pending"


def test_order_page_asks_the_gateway_when_the_callback_is_lost(shopper):
    """Callbacks never arrive: the order page's own status check finds the payment."""
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    page = redirect.headers["Location"]
    shopper.http.post(page, data={"action": "pay", "phone": "22670000000"}, allow_redirects=False)
    order = only_order()
    assert order.status == "pending"
    landing = shopper.get(f"/orders/{order.token}")
    assert "Payment received" in text_of(landing)
    db.session.expire_all()
    assert order.status == "paid"
    assert events(order.payments[0], "status-check")


def test_order_page_updates_itself_while_pending(shopper):
    shopper.buy()
    page = shopper.get(f"/orders/{only_order().token}")
    assert 'src="/static/js/order-status.js"' in page.text  # polls status.json (tests/test_storefront.py)
    assert '<noscript><meta http-equiv="refresh" content="60"></noscript>' in page.text


def test_amount_mismatch_is_flagged_never_paid(shopper):
    """C1: the gateway reports another amount: not paid, flagged for the merchant."""
    STATE.set_faults("ligdicash", amount_delta=-5000)
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending"
    assert payment.status == "pending"
    assert payment.attention_kind == "amount_mismatch"


def test_gateway_choices_follow_the_currency(shopper):
    shopper.set_market("NGN")
    shopper.add_to_cart("cafe-rwanda")
    page = shopper.get("/checkout").text
    assert 'value="ligdicash"' not in page
    response = shopper.checkout(gateway="ligdicash")
    assert response.status_code == 400
    assert count(Order) == 0


def test_order_page_is_reachable_from_my_orders(shopper):
    shopper.buy()
    order = only_order()
    assert order.reference in text_of(shopper.get("/orders"))


def test_order_token_is_unguessable(shopper):
    """D3: orders are found by a long random token only."""
    shopper.buy()
    order = only_order()
    assert len(order.token) >= 32
    assert shopper.get(f"/orders/{order.reference}").status_code == 404
    assert shopper.get(f"/orders/{order.id}").status_code == 404
