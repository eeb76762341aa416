"""The state owner (orders/states.py) and the faults it makes impossible (issue 15):
statuses checked by the database, one writer of statuses, no stuck attempt, one open
invoice per order, partial money never called "nothing charged", reconciliation that
survives one bad payment."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

import models
from core.references import new_reference
from extensions import db
from models import Order, Payment, PaymentEvent, utcnow
from orders import states
from orders.states import AttentionKind, OrderStatus, PaymentStatus
from payments import reconcile
from providers import REGISTRY
from simulator.state import STATE
from tests.helpers import CUSTOMER, DOMAIN, events, only_order, text_of, transitions

ROOT = Path(__file__).resolve().parents[2]


# the tables

def test_every_status_the_code_knows_is_one_the_database_accepts():
    assert {s.value for s in OrderStatus} == set(models.ORDER_STATUSES)
    assert {s.value for s in PaymentStatus} == set(models.PAYMENT_STATUSES)
    assert {k.value for k in AttentionKind} == set(models.ATTENTION_KINDS)
    for table in (states.ORDER_TRANSITIONS, states.PAYMENT_TRANSITIONS):
        assert set(table) == {target for targets in table.values() for target in targets} | set(table)


@pytest.mark.parametrize("table, column, value", [
    ("orders", "status", "shipped-ish"), ("payment", "status", "paid"),
    ("payment", "attention_kind", "whatever"),
])
def test_the_database_refuses_a_status_outside_the_table(shopper, ctx, table, column, value):
    shopper.buy()
    with pytest.raises(IntegrityError):
        db.session.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
        db.session.flush()
    db.session.rollback()


def test_money_columns_hold_more_than_32_bits(ctx):
    """A price of 999,999,999,999 XOF is stored and read back exactly."""
    order = _bare_order(total=999_999_999_999)
    db.session.expire_all()
    assert db.session.get(Order, order.id).total == 999_999_999_999


#: ``.values(status=…)``, ``x.status = …``, ``Order(…, status=…)``: the ways a status can be written.
MODELS = "|".join(sorted({machine.model.__name__ for machine in states.MACHINES.values()}))
WRITE = re.compile(rf"\.values\([^)]*\bstatus\s*=|\.status\s*=(?!=)|\b({MODELS})\([^)]*\bstatus\s*=")
#: Status-like columns that are not domain states: the outboxes' delivery claims (e-mail, SMS, and
#: their shared claim in core/outbox.py).
NOT_DOMAIN = {"mail/outbox.py", "notifications/sms.py", "core/outbox.py"}


def test_no_status_is_written_outside_the_owner():
    """A grep for status writes outside orders/states.py finds nothing."""
    offenders = []
    for folder in (*DOMAIN, "blueprints", "commands", "providers"):
        for path in (ROOT / folder).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name == "orders/states.py" or name in NOT_DOMAIN:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0]
                if WRITE.search(code):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []


def test_a_move_outside_the_table_changes_nothing_and_logs_nothing(shopper, ctx):
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    before = db.session.scalar(select(func.count()).select_from(PaymentEvent))
    assert states.transition(order, OrderStatus.EXPIRED, actor="test", why="too late") is None
    assert states.transition(order.payments[0], PaymentStatus.FAILED, actor="test", why="no") is None
    db.session.commit()
    db.session.expire_all()
    assert order.status == "paid" and order.payments[0].status == "succeeded"
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent)) == before


def test_every_change_of_a_purchase_is_logged_with_its_actor(shopper, ctx):
    shopper.on_gateway_page(shopper.buy(), "pay")
    payment = only_order().payments[0]
    moves = [(e.status_after, e.actor) for e in events(payment, "transition")]
    assert moves == [("pending", "system"), ("succeeded", "gateway:ligdicash"), ("paid", "gateway:ligdicash")]


# fault 1: no stuck attempt

def test_an_unexpected_error_while_opening_ends_the_attempt_and_a_retry_works(shopper, ctx, monkeypatch):
    def broken(self, request):
        raise RuntimeError("provider bug")

    monkeypatch.setattr(REGISTRY["ligdicash"], "create", broken)
    response = shopper.buy()
    assert response.status_code == 502 and "could not open the payment" in text_of(response)
    payment = only_order().payments[0]
    assert payment.status == "error"
    assert "unexpected RuntimeError while opening: provider bug" in events(payment, "create-failed")[0].note
    monkeypatch.undo()
    again = shopper.checkout()
    assert again.status_code == 303 and "/_sim/ligdicash/" in again.headers["Location"]
    db.session.expire_all()
    assert [p.status for p in only_order().payments] == ["error", "pending"]


def test_an_attempt_left_created_by_a_dead_worker_is_ended_and_the_order_can_be_paid(shopper, ctx):
    order_id = _abandoned_attempt(shopper).id
    report = reconcile.reconcile_once()
    assert report.stale_ended == 1 and report.errors == 0
    order = db.session.get(Order, order_id)
    assert [p.status for p in order.payments] == ["failed", "error"]
    assert "never opened at the gateway" in transitions(order.payments[1], "error")[0].note
    retry = shopper.post(f"/orders/{order.token}/pay", {"gateway": "ligdicash"},
                         csrf_from=f"/orders/{order.token}")
    assert retry.status_code == 303 and "/_sim/ligdicash/" in retry.headers["Location"]


def test_a_new_checkout_ends_a_dead_attempt_itself(shopper, ctx):
    """No need to wait for reconciliation: the customer's next submit ends it."""
    order = _abandoned_attempt(shopper)
    retry = shopper.post(f"/orders/{order.token}/pay", {"gateway": "ligdicash"},
                         csrf_from=f"/orders/{order.token}")
    assert retry.status_code == 303 and "/_sim/ligdicash/" in retry.headers["Location"]
    db.session.expire_all()
    assert [p.status for p in order.payments] == ["failed", "error", "pending"]


# fault 2: one open invoice per order

def test_the_database_keeps_one_open_attempt_per_order(shopper, ctx):
    shopper.buy()
    order = only_order()
    db.session.add(Payment(order=order, reference=new_reference("PAY", 12), gateway="payunit",
                           amount=order.total, currency=order.currency))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency tests need PostgreSQL: SQLite serialises all writers (set TEST_DATABASE_URL)")


def _parallel(count: int, request) -> list[int]:
    barrier = threading.Barrier(count, timeout=30)

    def one(_n: int) -> int:
        barrier.wait()
        return request().status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _twin(shopper) -> requests.Session:
    """Another connection of the same browser (same cookies)."""
    twin = requests.Session()
    twin.cookies.update(shopper.http.cookies)
    return twin


def test_eight_identical_checkout_submits_open_one_invoice(app, shopper, ctx):
    """A double-tap on a slow phone: eight submits of one checkout at once, one gateway invoice."""
    _postgres_only(app)
    shopper.add_to_cart("pagne-wax-6-yards")
    key, delivery = shopper.checkout_form()
    data = {**CUSTOMER, "gateway": "ligdicash", "checkout_key": key, "delivery": delivery,
            "csrf_token": shopper.csrf_token("/cart")}
    twins = [_twin(shopper) for _ in range(8)]
    codes = _parallel(8, lambda: twins.pop().post(shopper.url("/checkout"), data=data,
                                                  allow_redirects=False, timeout=15))
    assert codes == [303] * 8
    order = only_order()
    assert len(order.payments) == 1 and len(STATE.invoices) == 1


def test_eight_parallel_pay_posts_open_one_invoice(app, shopper, ctx):
    _postgres_only(app)
    shopper.on_gateway_page(shopper.buy(), "decline")
    order = only_order()
    data = {"gateway": "ligdicash", "csrf_token": shopper.csrf_token(f"/orders/{order.token}")}
    twins = [_twin(shopper) for _ in range(8)]
    codes = _parallel(8, lambda: twins.pop().post(shopper.url(f"/orders/{order.token}/pay"), data=data,
                                                  allow_redirects=False, timeout=15))
    assert codes == [303] * 8
    db.session.expire_all()
    assert [p.status for p in order.payments] == ["failed", "pending"] and len(STATE.invoices) == 2


# fault 3: partial money is never "nothing charged"

def test_paying_another_way_after_a_partial_deposit_keeps_the_attempt_and_flags_it(shopper, ctx):
    """$3 of $4.50 arrived on FCFPay; the customer asks to pay another way."""
    shopper.set_market("USD")
    redirect = shopper.buy("savon-noir", gateway="fcfpay")
    order = only_order()
    total = order.total  # 2.50 USD
    shopper.http.post(redirect.headers["Location"], data={"action": "deposit", "amount": "1.00", "coin": "BTC"},
                      timeout=15)
    page = shopper.post(f"/orders/{order.token}/abandon", csrf_from=f"/orders/{order.token}", follow=True)
    db.session.expire_all()
    payment = order.payments[0]
    assert payment.status == "pending" and order.status == "pending"
    received = payment.amount_received  # $1.00 of crypto, converted at the simulator's rate
    assert 90 <= received <= 100
    assert (payment.attention_kind, payment.attention_amount, payment.attention_expected) == (
        "partial", received, total)
    shown = text_of(page)
    assert f"${received / 100:.2f} of $2.50" in shown and "has already arrived on this payment, so it was not cancelled" in shown
    assert "nothing was charged" not in shown.lower()
    assert not order.can_retry


# fault 4: reconciliation survives one bad payment

def test_one_payment_that_raises_does_not_stop_the_pass(shopper, ctx, monkeypatch):
    shopper.buy()  # ligdicash, open
    first = only_order()
    other = _second_shopper_order(shopper, "payunit")
    first.expires_at = other.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    def broken(self, ref):
        raise ValueError("odd answer")

    monkeypatch.setattr(REGISTRY["ligdicash"], "fetch_status", broken)
    report = reconcile.reconcile_once()
    assert report.errors == 1 and report.checked == 2 and report.expired_orders == 2
    assert {o.status for o in db.session.scalars(select(Order))} == {"expired"}


def test_the_reconcile_loop_never_exits_on_an_exception(app, monkeypatch):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        raise KeyboardInterrupt  # ends the test's loop

    monkeypatch.setattr(reconcile, "reconcile_once", flaky)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    result = CliRunner().invoke(app.cli, ["reconcile", "--loop", "--interval", "1"], obj=None,
                                catch_exceptions=True)
    assert len(calls) == 2  # the first pass raised, the loop went on to a second
    assert result.exit_code != 0


# helpers

def _bare_order(total: int) -> Order:
    order = Order(reference=new_reference("CMD"), token=new_reference("T", 30), checkout_key=new_reference("K", 30),
                  currency="XOF", subtotal=total, total=total, customer_name="A", customer_email="a@example.bf",
                  customer_phone="+22670000000", expires_at=utcnow() + timedelta(minutes=30))
    db.session.add(order)
    db.session.commit()
    return order


def _abandoned_attempt(shopper) -> Order:
    """An order whose attempt was inserted and never opened: the worker died mid-create."""
    shopper.on_gateway_page(shopper.buy(), "decline")
    order = only_order()
    db.session.add(Payment(order=order, reference=new_reference("PAY", 12), gateway="ligdicash",
                           amount=order.total, currency=order.currency,
                           created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    db.session.expire_all()
    return order


def _second_shopper_order(shopper, gateway: str) -> Order:
    from tests.helpers import Shopper

    with Shopper(shopper.base_url) as other:
        other.set_market("XAF")
        assert other.buy(gateway=gateway).status_code == 303
    return db.session.scalars(select(Order).order_by(Order.id.desc())).first()
