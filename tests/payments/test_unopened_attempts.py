"""Gateway truth under pressure (issue 30), part 2: no dead attempt blocking a customer.

A worker killed mid-checkout (after the attempt is stored, before the gateway answers) leaves
the attempt ``created`` with no gateway id. Once it is older than its gateway's create timeout,
the next submit, the retry button and reconciliation each settle it: the gateway is asked by
our reference where it can be (IremboPay, FCFPay) and an invoice it opened is taken up, never
doubled; otherwise the attempt ends and the customer pays at once.

Here the killed worker's leftovers are made the way it leaves them: an order placed over real
HTTP, then an attempt row committed with nothing after it (and, for "the gateway had opened it",
the gateway's create called over real HTTP with its answer dropped). The real kill, of a
gunicorn worker, is in tests/test_killed_worker.py (PostgreSQL).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core.references import new_reference
from extensions import db
from models import Order, Payment, utcnow
from payments.attempts import checkout_request, open_deadline
from payments.gateways import get_provider
from payments.reconcile import reconcile_once
from simulator.state import STATE
from tests.helpers import events, only_order, text_of


def placed_order(shopper, gateway: str, market: str) -> tuple[Order, str]:
    """An order placed over HTTP whose first attempt the gateway refused (so nothing is open);
    returns it and the checkout key its form carries."""
    STATE.set_faults(gateway, create="refuse")
    shopper.set_market(market)
    shopper.add_to_cart("pagne-wax-6-yards", 1)
    key, _ = shopper.checkout_form()
    assert shopper.checkout(gateway=gateway, key=key).status_code >= 400
    STATE.set_faults(gateway, create="")
    order = only_order()
    assert order.active_payment is None
    return order, key


def left_by_a_killed_worker(order: Order, gateway: str, age: float, *, opened: bool = False) -> Payment:
    """The attempt a worker killed mid-create leaves: ``created``, no gateway id, ``age`` s old.
    ``opened``: the gateway got the create and opened the invoice; its answer was lost."""
    payment = Payment(order=order, reference=new_reference("PAY", 12), gateway=gateway,
                      amount=order.total, currency=order.currency)
    db.session.add(payment)
    db.session.commit()
    if opened:
        get_provider(gateway).create(checkout_request(order, payment))  # real HTTP; answer dropped
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(created_at=utcnow() - timedelta(seconds=age)))
    db.session.commit()
    return payment


def open_attempts(order: Order) -> list[Payment]:
    db.session.expire_all()
    return [p for p in db.session.get(Order, order.id).payments if p.status in Payment.ACTIVE]


def test_resubmitting_the_checkout_pays_at_once_past_the_timeout(shopper, app):
    """LigdiCash cannot be asked by our reference: the attempt is ended as never opened, and the
    same checkout, submitted again, goes straight to a LigdiCash page."""
    order, key = placed_order(shopper, "ligdicash", "XOF")
    stuck = left_by_a_killed_worker(order, "ligdicash", open_deadline("ligdicash") + 1)
    response = shopper.checkout(gateway="ligdicash", key=key)
    assert response.status_code == 303
    assert "/_sim/ligdicash/pay/invoice/" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Payment, stuck.id).status == "error"
    assert "never opened" in events(stuck, "lookup")[0].note
    assert len(open_attempts(order)) == 1
    landing = shopper.on_gateway_page(response, "pay")
    assert "Payment received" in text_of(landing)


def test_an_attempt_younger_than_the_timeout_is_left_to_its_request(shopper):
    """Its request may still be waiting for the gateway: nothing is ended, nothing doubled."""
    order, key = placed_order(shopper, "ligdicash", "XOF")
    stuck = left_by_a_killed_worker(order, "ligdicash", 0)
    response = shopper.checkout(gateway="ligdicash", key=key)
    assert response.status_code == 303 and f"/orders/{order.token}" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Payment, stuck.id).status == "created"
    assert not STATE.invoices


def test_try_again_takes_up_the_invoice_the_gateway_had_opened(shopper):
    """IremboPay opened the invoice but the worker died before storing its answer: asked by our
    transactionId, it has it. "Try again" sends the customer to that invoice, never a second."""
    order, _ = placed_order(shopper, "irembopay", "RWF")
    stuck = left_by_a_killed_worker(order, "irembopay", open_deadline("irembopay") + 1, opened=True)
    assert len(STATE.invoices) == 1
    token = shopper.csrf_token(f"/orders/{order.token}")
    response = shopper.post(f"/orders/{order.token}/pay", {"csrf_token": token, "gateway": "irembopay"})
    assert response.status_code == 303
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.reference == stuck.reference and len(STATE.invoices) == 1
    db.session.expire_all()
    stuck = db.session.get(Payment, stuck.id)
    assert stuck.status == "pending" and stuck.gateway_ref == invoice.token
    assert "taken up" in " ".join(e.note for e in events(stuck))
    assert [p.id for p in open_attempts(order)] == [stuck.id]
    page = shopper.get(f"/orders/{order.token}")
    assert invoice.page_path in page.text  # the order page links to the one invoice


def test_reconciliation_settles_what_the_gateway_never_opened(shopper, app):
    """FCFPay's check-orders leaves out ids it does not know: the attempt ends, the order is
    payable again at once (no waiting for it to expire)."""
    order, _ = placed_order(shopper, "fcfpay", "USD")
    stuck = left_by_a_killed_worker(order, "fcfpay", open_deadline("fcfpay") + 1)
    with app.app_context():
        report = reconcile_once()
    assert report.stale_ended == 1
    db.session.expire_all()
    assert db.session.get(Payment, stuck.id).status == "error"
    assert "no invoice under our reference" in events(stuck, "lookup")[0].note
    assert db.session.get(Order, order.id).can_retry


def test_an_invoice_opened_without_a_known_page_is_ended_and_kept(shopper, app):
    """FCFPay had opened the order, but check-orders gives no page URL: nobody can have seen it,
    so the attempt ends (its id kept for the merchant) and the customer pays on a new one."""
    order, _ = placed_order(shopper, "fcfpay", "USD")
    stuck = left_by_a_killed_worker(order, "fcfpay", open_deadline("fcfpay") + 1, opened=True)
    with app.app_context():
        assert reconcile_once().stale_ended == 1
    db.session.expire_all()
    stuck = db.session.get(Payment, stuck.id)
    assert stuck.status == "error" and stuck.gateway_ref == stuck.reference
    assert "page is not known" in events(stuck, "lookup")[0].note


def test_a_gateway_that_cannot_answer_keeps_the_attempt_until_the_ceiling(shopper, app):
    """IremboPay's API is down: not knowing whether it opened the invoice, the shop waits (the
    order page says so) rather than risk a second invoice; past CREATED_STALE_SECONDS it ends."""
    order, key = placed_order(shopper, "irembopay", "RWF")
    stuck = left_by_a_killed_worker(order, "irembopay", open_deadline("irembopay") + 1)
    STATE.set_faults("irembopay", status="http500")
    with app.app_context():
        assert reconcile_once().stale_ended == 0
    db.session.expire_all()
    assert db.session.get(Payment, stuck.id).status == "created"
    assert "could not ask" in events(stuck, "lookup")[0].note
    db.session.execute(update(Payment).where(Payment.id == stuck.id).values(
        created_at=utcnow() - timedelta(seconds=app.config["CREATED_STALE_SECONDS"] + 1)))
    db.session.commit()
    STATE.set_faults("irembopay", create="")
    response = shopper.checkout(gateway="irembopay", key=key)
    assert response.status_code == 303  # IremboPay: to the order page, which links to the invoice
    db.session.expire_all()
    assert db.session.get(Payment, stuck.id).status == "error"
    assert db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.order_id == order.id, Payment.status == "pending")) == 1
    assert next(iter(STATE.invoices.values())).page_path in shopper.get(response.headers["Location"]).text
