"""Dashboard order list at volume: fill a scratch database with N orders, time the pages.

    DATABASE_URL=sqlite:////tmp/bench.db python bench/admin_orders.py 100000

The database named by DATABASE_URL is migrated and filled; use a scratch one.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from extensions import db  # noqa: E402
from models import Order, Payment, utcnow  # noqa: E402
from merchant import reports  # noqa: E402
from core.references import new_reference  # noqa: E402

BATCH = 5000


def fill(n: int) -> None:
    """Insert orders (one payment each) until there are ``n``."""
    have = db.session.scalar(select(func.count()).select_from(Order)) or 0
    now = utcnow()
    statuses = ("paid", "pending", "expired", "cancelled")
    for start in range(have, n, BATCH):
        count = min(BATCH, n - start)
        orders = [dict(reference=new_reference("CMD"), token=new_reference("T", 30), checkout_key=new_reference("K", 30),
                       currency=("XOF", "USD", "NGN")[i % 3], subtotal=1500, total=1500, customer_name=f"Client {i}",
                       customer_email=f"client{i}@example.com", customer_phone=f"+226{i:08d}", language="fr",
                       status=statuses[i % 4], stock_released=False, created_at=now - timedelta(minutes=i),
                       updated_at=now, expires_at=now, paid_at=now - timedelta(minutes=i) if i % 4 == 0 else None)
                  for i in range(start, start + count)]
        db.session.execute(insert(Order), orders)
        ids = db.session.execute(select(Order.id, Order.currency).order_by(Order.id.desc()).limit(count)).all()
        db.session.execute(insert(Payment), [
            dict(order_id=oid, reference=new_reference("PAY", 12), gateway="ligdicash", status="succeeded",
                 amount=1500, currency=cur, gateway_ref=f"GW{oid}", created_at=now, updated_at=now)
            for oid, cur in ids])
        db.session.commit()


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    fn()
    print(f"{label:<40} {1000 * (time.perf_counter() - started):8.1f} ms")


def main(n: int) -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        fill(n)
        f = reports.OrderFilter
        timed("first page", lambda: reports.order_page(f()))
        timed("page 1000", lambda: reports.order_page(f(), 1000))
        timed("status=paid currency=USD", lambda: reports.order_page(f(status="paid", currency="USD")))
        timed("gateway=ligdicash", lambda: reports.order_page(f(gateway="ligdicash")))
        timed("search e-mail", lambda: reports.order_page(f(q="Client77@example.com")))
        timed("search gateway ref", lambda: reports.order_page(f(q="GW4242")))
        timed("overview", reports.overview)
        timed("CSV of everything", lambda: sum(len(chunk) for chunk in reports.csv_rows(f())))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
