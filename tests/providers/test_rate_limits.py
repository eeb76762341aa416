"""HTTP 429 is "unavailable, try later" for every provider, in one place (the shared HTTP
helper), with its ``Retry-After``; reconciliation leaves that gateway alone until then (issue 20)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from extensions import db
from models import Payment
from payments import pacing
from payments.gateways import get_provider
from payments.reconcile import reconcile_once
from providers import REGISTRY
from providers.base import MAX_RETRY_AFTER_SECONDS, PaymentRef, ProviderUnavailable, retry_after
from simulator.state import RETRY_AFTER, STATE
from tests.helpers import events, let_pacing_pass, only_order
from tests.providers.test_contract import currency_for, sample_request


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_provider_turns_429_into_unavailable_with_retry_after(app, ctx, base_url, name):
    provider = get_provider(name)
    currency = currency_for(app, name)
    request = sample_request(currency, base_url)
    hosted = provider.create(request)
    STATE.set_faults(name, status="http429")
    with pytest.raises(ProviderUnavailable, match="429") as caught:
        provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, currency))
    assert caught.value.retry_after == RETRY_AFTER


def test_a_429_on_create_tells_the_customer_to_try_again(shopper):
    """Paycashless's simulator can refuse a create with 429: unavailable (503), cart kept."""
    STATE.set_faults("paycashless", create="http429")
    shopper.set_market("NGN")
    response = shopper.buy("cafe-rwanda", gateway="paycashless")
    assert response.status_code == 503
    assert "rate limiting" in events(only_order().payments[0], "create-failed")[0].note


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0), ("0", 0.0), (" 5 ", 5.0), ("999999", float(MAX_RETRY_AFTER_SECONDS)),
    ("", None), (None, None), ("soon", None), ("-3", None), ("1.5", None),
])
def test_retry_after_in_seconds(value, expected):
    assert retry_after(value) == expected


def test_retry_after_as_an_http_date():
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    assert 85 <= retry_after(format_datetime(later, usegmt=True)) <= 90
    earlier = datetime.now(timezone.utc) - timedelta(seconds=90)
    assert retry_after(format_datetime(earlier, usegmt=True)) == 0


def test_reconciliation_leaves_a_gateway_alone_until_its_retry_after(shopper, app):
    """Two open LigdiCash payments; the first check gets 429 + Retry-After: the second is not
    asked in that pass, nor in the next one; once the time has passed, both are."""
    STATE.set_faults("ligdicash", callbacks="none")
    shopper.buy()
    shopper.http.cookies.clear()
    shopper.buy("savon-noir")
    STATE.set_faults("ligdicash", status="http429")
    with app.app_context():
        first = reconcile_once()
    assert (first.checked, first.unreachable, first.skipped) == (1, 1, 1), first
    assert 0 < pacing.resting("ligdicash") <= RETRY_AFTER
    asked = sum(len(i.status_checks) for i in STATE.invoices.values())
    assert asked == 1

    let_pacing_pass()
    with app.app_context():
        second = reconcile_once()
    assert second.checked == 0 and second.skipped == 2
    assert sum(len(i.status_checks) for i in STATE.invoices.values()) == 1  # nobody asked

    STATE.set_faults("ligdicash", status="")
    pacing.forget_rests()  # as if the Retry-After had passed
    with app.app_context():
        third = reconcile_once()
    assert third.checked == 2 and third.unreachable == 0
    db.session.expire_all()
    notes = [e.note for p in db.session.query(Payment).all() for e in events(p)]
    assert any("rate limiting us (HTTP 429)" in n for n in notes)


def test_a_callback_during_a_429_is_answered_503_so_the_gateway_retries(shopper):
    """A 429 from the status API is not a verdict: the callback asks to be sent again."""
    shopper.set_market("XAF")
    shopper.add_to_cart("pagne-wax-6-yards")
    shopper.checkout(gateway="payunit")
    payment = only_order().payments[0]
    STATE.set_faults("payunit", status="http429")
    import requests

    response = requests.post(shopper.url(f"/payments/callback/payunit/{payment.reference}"), json={}, timeout=10)
    assert response.status_code == 503


@pytest.mark.parametrize("raw", [{"status": "void", "amountDue": 100, "currency": "NGN"},
                                 {"status": None}, {"status": ["paid"], "amountDue": "100"}])
def test_paycashless_unknown_status_is_pending_and_named(raw):
    """Issue 20, for every gateway: a status we cannot read keeps the payment open, named."""
    from providers.paycashless import status_report

    report = status_report(raw)
    assert report.status == "pending" and report.unknown_status == str(raw["status"])[:60]
