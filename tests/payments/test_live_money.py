"""Live money only (issue 31): production never talks test mode, and no test-mode answer pays.

Against the gateways' own documents (seed 003 for PayUnit, seed 004 for Paycashless, the notes
in docs/gateways/), over real HTTP and real processes where the behaviour is the shop's start-up.
"""
from __future__ import annotations

import pytest

from extensions import db
from payments.gateways import get_provider
from providers.payunit import key_mode
from simulator.state import STATE
from tests.helpers import events, let_pacing_pass, only_order, text_of
from tests.test_config import STRONG, run_python

PAYUNIT = {"PAYUNIT_API_USER": "merchant-user", "PAYUNIT_API_PASSWORD": "merchant-password"}


def production_start(**env: str):
    """The check gunicorn's master runs before any worker boots, in a fresh production process."""
    return run_python("from app import check_config; check_config()", {
        "SECRET_KEY": STRONG, "DATABASE_URL": "postgres://u@127.0.0.1:1/x",
        "PUBLIC_BASE_URL": "https://shop.example.com", **env})


def test_production_refuses_to_guess_payunit_mode():
    """A PayUnit key that does not say its mode and no PAYUNIT_MODE: today's main would send
    ``mode: test`` with a live key. Production now refuses to start, in one line naming the variable."""
    result = production_start(**PAYUNIT, PAYUNIT_API_KEY="3f6d0c2e9b1a")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        ("comptoir: configuration error: payunit: set PAYUNIT_MODE to live (or test): PAYUNIT_API_KEY "
        "does not say which, and production never assumes test mode")]


def test_a_mode_that_contradicts_the_key_is_refused():
    result = production_start(**PAYUNIT, PAYUNIT_API_KEY="live_0123456789abcdef", PAYUNIT_MODE="test")
    assert result.returncode != 0
    assert "PAYUNIT_MODE is test but PAYUNIT_API_KEY is a live key" in result.stderr


@pytest.mark.parametrize("env", [
    {"PAYUNIT_API_KEY": "live_0123456789abcdef"},  # seed 003: live_… goes with mode: live
    {"PAYUNIT_API_KEY": "3f6d0c2e9b1a", "PAYUNIT_MODE": "Live"},
    {"PAYUNIT_API_KEY": "sandbox_0123456789", "PAYUNIT_MODE": "test"},
])
def test_production_starts_when_the_mode_is_known(env):
    assert production_start(**PAYUNIT, **env).returncode == 0


@pytest.mark.parametrize("api_key, mode", [("live_abc", "live"), ("LIVE_abc", "live"), ("test_abc", "test"),
                                           ("sandbox_abc", "test"), ("abc", None), ("", None)])
def test_the_key_prefix_names_the_mode(api_key, mode):
    assert key_mode(api_key) == mode


def test_the_mode_header_follows_the_key(app, ctx):
    """No PAYUNIT_MODE: a live key sends ``mode: live`` (seed 003's curl example), never test."""
    provider = get_provider("payunit")
    provider.settings = {**provider.settings, "mode": "", "api_key": "live_0123456789abcdef"}
    assert provider._headers()["mode"] == "live"


# --- Paycashless liveMode (seed 004: every object carries liveMode) ---------------------------

def naira_checkout(shopper):
    shopper.set_market("NGN")
    shopper.add_to_cart("pagne-wax-6-yards", 1)
    return shopper.checkout(gateway="paycashless")


def test_a_sandbox_key_never_opens_an_invoice_where_money_must_be_live(shopper, app):
    """Live money only (production's default): Paycashless answers the create with
    ``liveMode: false``: the customer is not sent to a page where nothing real can be paid."""
    app.config["LIVE_MONEY_ONLY"] = True
    response = naira_checkout(shopper)
    assert response.status_code == 502
    assert "could not open the payment" in text_of(response)
    payment = only_order().payments[0]
    assert payment.status == "error"
    assert "test mode (liveMode: false)" in events(payment, "create-failed")[0].note


def test_a_paid_answer_in_test_mode_never_pays_the_order(shopper, app):
    """An invoice opened before the shop took live money only, paid in test mode: the signed
    webhooks and the status API say paid with ``liveMode: false``; the order stays unpaid and
    the merchant is told why. (Today's main counts it as paid.)"""
    redirect = naira_checkout(shopper)
    assert redirect.status_code == 303
    app.config["LIVE_MONEY_ONLY"] = True
    landing = shopper.on_gateway_page(redirect, "pay")
    assert "Payment received" not in text_of(landing)
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending" and payment.status == "pending"
    assert payment.attention_kind == "other" and "test mode" in payment.attention
    assert any("not paid: a test-mode answer" in e.note for e in events(payment, "callback"))


def test_a_live_answer_pays_as_always(shopper, app):
    app.config["LIVE_MONEY_ONLY"] = True
    STATE.set_faults("paycashless", live_mode=True)  # a live key
    landing = shopper.on_gateway_page(naira_checkout(shopper), "pay")
    assert "Payment received" in text_of(landing)
    assert only_order().status == "paid"


def test_production_takes_live_money_only_by_default():
    from config import CONFIGS

    assert CONFIGS["production"].LIVE_MONEY_ONLY is True
    assert CONFIGS["development"].LIVE_MONEY_ONLY is False  # make run: the simulator is a sandbox


# --- IremboPay notices as the document shows them -------------------------------------------

def test_a_signed_notice_without_currency_is_confirmed_with_get_invoice(shopper):
    """The documented sample notice carries no currency (nor paymentStatus). Signed and genuine,
    it is confirmed with Get Invoice and pays the order; no "amount missing" flag. (Today's main
    answers 200, leaves it unpaid and flags it.)"""
    from tests.payments.test_purchase_irembopay import buy, pay_link

    STATE.set_faults("irembopay", notice_fields="documented")
    page = pay_link(shopper, buy(shopper))
    paid = shopper.http.post(page, data={"action": "pay", "method": "MTN_MOMO", "phone": "0781234567"},
                             timeout=15)
    assert paid.status_code == 200
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.deliveries and invoice.deliveries[0].endswith("200")
    order = only_order()
    payment = order.payments[0]
    assert order.status == "paid" and payment.status == "succeeded"
    assert payment.attention_kind is None
    notice = events(payment, "callback")[0]
    assert "confirmed with Get Invoice" in notice.note and notice.verified


def test_a_flag_is_lowered_once_the_gateways_word_settles_it(shopper):
    """LigdiCash's confirm first answers with amounts nobody can read (flagged for the merchant);
    the next confirm says how much: the order is paid and the flag comes down."""
    STATE.set_faults("ligdicash", status="odd", callbacks="none")
    redirect = shopper.buy()
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "phone": "22670000000"},
                      allow_redirects=False, timeout=15)
    order = only_order()
    shopper.get(f"/orders/{order.token}")
    payment = order.payments[0]
    db.session.expire_all()
    assert payment.status == "pending" and payment.attention_kind == "unknown_status"
    STATE.set_faults("ligdicash", status="")
    let_pacing_pass()
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))
    db.session.expire_all()
    assert payment.status == "succeeded" and payment.attention_kind is None
