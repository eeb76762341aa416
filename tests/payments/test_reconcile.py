"""Reconciliation: lost callbacks found, unpaid orders expired, late money recorded (issue 8)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from extensions import db
from models import OutboxEmail, utcnow
from payments.reconcile import reconcile_once
from simulator.state import STATE
from tests.helpers import events, let_pacing_pass, only_order, set_stock, stock_of


def pay_without_callbacks(shopper, gateway_page):
    shopper.http.post(gateway_page, data={"action": "pay", "phone": "22670000000"}, allow_redirects=False)


def test_a_payment_whose_callback_never_came_is_paid_by_reconciliation(shopper, app):
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    pay_without_callbacks(shopper, redirect.headers["Location"])
    order = only_order()
    assert order.status == "pending"
    with app.app_context():
        report = reconcile_once()
    assert report.checked == 1 and report.paid == 1
    db.session.expire_all()
    assert order.status == "paid"
    assert "reconciliation" in events(order.payments[0], "status-check")[-1].note


def test_unpaid_order_past_its_reservation_expires_and_releases_stock(shopper, app, ctx):
    before = stock_of("pagne-wax-6-yards")
    shopper.buy("pagne-wax-6-yards", 3)
    order = only_order()
    assert stock_of("pagne-wax-6-yards") == before - 3
    with app.app_context():
        report = reconcile_once(now=utcnow() + timedelta(minutes=31))
    assert report.expired_orders == 1 and report.checked == 1
    db.session.expire_all()
    assert order.status == "expired" and order.payments[0].status == "expired"
    assert stock_of("pagne-wax-6-yards") == before
    with app.app_context():  # a second pass changes nothing
        assert reconcile_once(now=utcnow() + timedelta(minutes=32)).expired_orders == 0
    assert stock_of("pagne-wax-6-yards") == before


def test_paid_just_before_expiry_is_not_expired(shopper, app):
    """The gateway is asked before anything is expired."""
    STATE.set_faults("ligdicash", callbacks="none")
    pay_without_callbacks(shopper, shopper.buy().headers["Location"])
    with app.app_context():
        report = reconcile_once(now=utcnow() + timedelta(minutes=31))
    assert report.paid == 1 and report.expired_orders == 0
    db.session.expire_all()
    assert only_order().status == "paid"


def test_late_success_on_an_expired_order_pays_it_when_its_stock_can_be_held_again(shopper, app):
    """B4 / issue 31: LigdiCash's invoice has no expiry, so money can arrive after the order
    expired and gave its stock back. It is never dropped: the stock is held again and the order
    paid (the customer gets the receipt, the merchant the order to fulfil)."""
    STATE.set_faults("ligdicash", callbacks="none")
    before = stock_of("pagne-wax-6-yards")
    redirect = shopper.buy()
    with app.app_context():
        reconcile_once(now=utcnow() + timedelta(minutes=31))
    order = only_order()
    assert order.status == "expired" and stock_of("pagne-wax-6-yards") == before
    pay_without_callbacks(shopper, redirect.headers["Location"])  # the customer pays anyway
    let_pacing_pass()
    with app.app_context():
        report = reconcile_once(now=utcnow() + timedelta(minutes=40))
    assert report.paid == 1
    db.session.expire_all()
    payment = order.payments[0]
    assert payment.status == "succeeded" and order.status == "paid"
    assert payment.attention_kind is None
    assert stock_of("pagne-wax-6-yards") == before - 1
    assert "stock was held again" in " ".join(e.note for e in events(payment, "transition"))
    assert {e.kind for e in db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.order_id == order.id))} >= {"receipt"}


def test_late_success_when_the_stock_is_gone_is_flagged_for_refund_with_the_amounts(shopper, app):
    """The last units sold meanwhile: the order stays expired, nothing is oversold, and the
    merchant is told to refund exactly what arrived."""
    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy()
    with app.app_context():
        reconcile_once(now=utcnow() + timedelta(minutes=31))
    order = only_order()
    set_stock("pagne-wax-6-yards", 0)
    pay_without_callbacks(shopper, redirect.headers["Location"])
    let_pacing_pass()
    with app.app_context():
        assert reconcile_once(now=utcnow() + timedelta(minutes=40)).paid == 1
    db.session.expire_all()
    payment = order.payments[0]
    assert payment.status == "succeeded" and order.status == "expired"
    assert payment.attention_kind == "paid_closed"
    assert f"refund {payment.amount} XOF" in payment.attention
    assert payment.attention_amount == payment.amount
    assert stock_of("pagne-wax-6-yards") == 0 and order.stock_released


def test_status_api_down_during_reconciliation_changes_nothing(shopper, app):
    STATE.set_faults("ligdicash", callbacks="none")
    pay_without_callbacks(shopper, shopper.buy().headers["Location"])
    STATE.set_faults("ligdicash", status="http500")
    with app.app_context():
        report = reconcile_once(now=utcnow() + timedelta(minutes=31))
    assert report.unreachable == 1
    order = only_order()
    # the order is expired (its reservation ran out) but the payment is still asked about later
    assert order.status == "expired"
    assert "status check failed" in events(order.payments[0], "status-check")[-1].note
    STATE.set_faults("ligdicash", status="")
    let_pacing_pass()
    with app.app_context():
        assert reconcile_once(now=utcnow() + timedelta(minutes=45)).paid == 1
    db.session.expire_all()
    assert order.payments[0].status == "succeeded" and order.status == "paid"  # paid late, stock held again


def test_ligdicash_is_not_asked_more_than_every_three_seconds(shopper, app):
    shopper.buy()
    payment = only_order().payments[0]
    payment.last_checked_at = utcnow()
    db.session.commit()
    with app.app_context():
        assert reconcile_once().checked == 0
    payment.last_checked_at = utcnow() - timedelta(seconds=4)
    db.session.commit()
    with app.app_context():
        assert reconcile_once().checked == 1


def test_reconcile_command(runner):
    result = runner.invoke(args=["reconcile"])
    assert result.exit_code == 0 and "Reconciled: checked 0 payment(s)" in result.output
