"""Issue 28: merchants refunding one order at the same time never give back more than was
received (one conditional UPDATE; the CHECK behind it). PostgreSQL only: SQLite serialises
every writer, so the race cannot happen there."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from extensions import db
from merchant import actions
from merchant.accounts import AdminError
from models import Order, PaymentEvent, Refund
from tests.helpers import only_order


@pytest.fixture(autouse=True)
def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency tests need PostgreSQL: SQLite serialises all writers (set TEST_DATABASE_URL)")


def refund_at_once(app, order_id: int, amounts: list[str]) -> list[str]:
    """Each amount refunded by its own merchant, all released at the same instant."""
    barrier = threading.Barrier(len(amounts), timeout=60)

    def one(i: int) -> str:
        with app.app_context():
            try:
                order = db.session.get(Order, order_id)
                assert order.refundable > 0
                barrier.wait()
                return actions.refund(order, f"merchant{i}@example.bf", method="mobile_money",
                                      amount_text=amounts[i], reference=f"TX-{i}")
            except AdminError as exc:
                return f"refused: {exc}"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(len(amounts)) as pool:
        return list(pool.map(one, range(len(amounts))))


def test_two_merchants_refunding_most_of_an_order_at_once_refund_it_once(shopper, app):
    shopper.on_gateway_page(shopper.buy("pagne-wax-6-yards", 2), "pay")
    order = only_order()
    assert order.status == "paid" and order.amount_received == 30000
    outcomes = refund_at_once(app, order.id, ["20000"] * 8)
    assert sum(o.startswith("Refund of") for o in outcomes) == 1, outcomes
    assert all("Not recorded" in o for o in outcomes if o.startswith("refused")), outcomes
    db.session.expire_all()
    assert order.amount_refunded == 20000 and order.status == "paid"
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    assert db.session.scalar(select(func.count()).select_from(PaymentEvent).where(PaymentEvent.kind == "refund")) == 1


def test_many_small_refunds_at_once_stop_exactly_at_what_was_received(shopper, app):
    shopper.on_gateway_page(shopper.buy("pagne-wax-6-yards", 2), "pay")
    order = only_order()
    outcomes = refund_at_once(app, order.id, ["7500"] * 10)  # 4 of them make 30000
    assert sum(o.startswith("Refund of") for o in outcomes) == 4, outcomes
    db.session.expire_all()
    assert order.amount_refunded == order.amount_received == 30000
    assert order.status == "refunded"
    assert db.session.scalar(select(func.sum(Refund.amount))) == 30000
    moved = db.session.scalars(select(PaymentEvent).where(PaymentEvent.order_id == order.id,
                                                          PaymentEvent.kind == "transition",
                                                          PaymentEvent.status_after == "refunded")).all()
    assert len(moved) == 1
