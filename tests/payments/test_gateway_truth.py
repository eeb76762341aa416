"""Gateway truth under pressure (issue 30), part 1: no genuine word dropped.

A callback that lands inside LigdiCash's 3 s confirm window, or while a gateway asked us to
wait (429 with Retry-After), is confirmed the moment the window opens: a few forged callbacks
sent just before the genuine one cannot leave a paid order pending. Real HTTP throughout: the
forged callbacks are POSTed to the shop by the test, the genuine ones by the simulator.
"""
from __future__ import annotations

import time

import requests

from extensions import db
from models import Payment
from simulator.state import RETRY_AFTER, STATE
from tests.helpers import events, only_order

LIGDICASH_PAY = {"action": "pay", "phone": "22670000000"}


def forged_ligdicash(shopper, payment: Payment) -> requests.Response:
    """What anyone who knows a payment reference can send: an unsigned "completed"."""
    body = {"status": "completed", "custom_data": [
        {"keyof_customdata": "transaction_id", "valueof_customdata": payment.reference}]}
    return requests.post(shopper.url("/payments/callback/ligdicash"), json=body, timeout=10)


def paid_within(payment_id: int, seconds: float) -> float | None:
    """Seconds until the payment is succeeded (None if not within ``seconds``), read from the database."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        db.session.expire_all()
        if db.session.get(Payment, payment_id).status == "succeeded":
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def test_forged_callbacks_just_before_the_genuine_one_do_not_hold_the_order(shopper):
    """Three forged callbacks, then the customer pays and the gateway's genuine callbacks land
    inside the window the forgeries opened. Nobody comes back to the shop, no reconciliation
    runs: the order is paid within pacing + 1 s, and the gateway never had to refuse a confirm."""
    STATE.set_faults("ligdicash", confirm_pacing=1)  # the simulator refuses a confirm < 3 s later
    redirect = shopper.buy()
    payment = only_order().payments[0]
    for _ in range(3):
        assert forged_ligdicash(shopper, payment).status_code == 200
    db.session.expire_all()
    assert payment.status == "pending"  # the first forgery made us ask: nothing paid yet
    # the customer pays; the simulator sends the genuine callbacks before it answers
    page = shopper.http.post(redirect.headers["Location"], data=LIGDICASH_PAY, allow_redirects=False,
                             timeout=15)
    genuine_at = time.monotonic()
    assert page.status_code == 303  # to the return URL, which the customer never opens
    took = paid_within(payment.id, 3.0 + 1.0)
    assert took is not None, [e.note for e in events(payment)]
    db.session.expire_all()
    assert payment.order.status == "paid"
    assert time.monotonic() - genuine_at < 3.0 + 1.0 + 0.5
    notes = [e.note for e in events(payment)]
    assert any("confirmation scheduled" in n for n in notes)
    assert not any("429" in n for n in notes)
    succeeded = [e for e in events(payment, "callback-deferred") if e.status_after == "succeeded"]
    assert succeeded and succeeded[0].verified  # the gateway's own confirm said so


def test_one_deferred_confirmation_per_payment_however_many_callbacks(shopper):
    """Ten callbacks in one window are one confirmation when it opens, not nine."""
    STATE.set_faults("ligdicash", confirm_pacing=1, callbacks="none")
    redirect = shopper.buy()
    payment = only_order().payments[0]
    for _ in range(5):  # the first asks (pending), the others wait for the window
        assert forged_ligdicash(shopper, payment).status_code == 200
    shopper.http.post(redirect.headers["Location"], data=LIGDICASH_PAY, allow_redirects=False, timeout=15)
    for _ in range(5):
        assert forged_ligdicash(shopper, payment).status_code == 200
    assert paid_within(payment.id, 3.0 + 1.0) is not None
    time.sleep(0.5)
    invoice = next(iter(STATE.invoices.values()))
    assert len(invoice.status_checks) == 2  # the first callback's, then the window's


def test_a_confirm_refused_with_retry_after_is_asked_again_when_it_ends(shopper):
    """FCFPay's callback is only a hint; its check-order answers 429 with Retry-After. The shop
    answers 503 (the gateway may send it again) and asks by itself once the wait is over."""
    STATE.set_faults("fcfpay", status="http429")
    shopper.set_market("USD")
    redirect = shopper.buy(gateway="fcfpay")
    payment = only_order().payments[0]
    page = shopper.http.post(redirect.headers["Location"], data={"action": "pay", "coin": "USDT"},
                             allow_redirects=False, timeout=15)
    assert page.status_code in (302, 303)
    db.session.expire_all()
    assert payment.status == "pending"
    callbacks = events(payment, "callback")
    assert callbacks and "429" in callbacks[-1].note
    assert any("Retry-After" in e.note for e in events(payment, "callback-deferred"))
    STATE.set_faults("fcfpay", status="")  # the gateway is answering again when the wait ends
    assert paid_within(payment.id, RETRY_AFTER + 1.5) is not None
    db.session.expire_all()
    assert payment.order.status == "paid"
