"""Issue 27: merchants recording the same cash collection at once record it once (the order's
conditional move is the claim). PostgreSQL only: SQLite serialises every writer."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from extensions import db
from merchant import actions
from merchant.accounts import AdminError
from models import Order, OutboxEmail, Payment, PickupPoint
from orders import fulfilment
from tests.helpers import only_order


@pytest.fixture(autouse=True)
def postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency tests need PostgreSQL: SQLite serialises all writers (set TEST_DATABASE_URL)")


def test_eight_merchants_recording_one_collection_record_it_once(shopper, app):
    point = db.session.scalars(select(PickupPoint).where(PickupPoint.currency == "XOF")).first()
    point.cash_enabled = True
    db.session.commit()
    shopper.add_to_cart("pagne-wax-6-yards", 2)
    assert shopper.checkout("cash", delivery=f"point:{point.id}:0").status_code == 303
    order = only_order()
    for action in ("preparing", "ready_for_pickup"):
        assert fulfilment.advance(order, action, "boss@example.bf")
    db.session.commit()
    order_id = order.id
    barrier = threading.Barrier(8, timeout=60)

    def one(i: int) -> str:
        with app.app_context():
            try:
                mine = db.session.get(Order, order_id)
                barrier.wait()
                return actions.collect(mine, f"merchant{i}@example.bf", "30000")
            except AdminError as exc:
                return f"refused: {exc}"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, range(8)))
    assert sum(o.startswith("Recorded") for o in outcomes) == 1, outcomes
    db.session.expire_all()
    order = only_order()
    assert (order.status, order.amount_received, order.fulfilment_status) == ("paid", 30000, "picked_up")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "receipt")) == 1
