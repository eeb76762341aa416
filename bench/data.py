"""Building big shops fast: products with prices, orders with lines and payments.

Bulk INSERTs through the models' tables (``insert(Model)`` with many rows), so that
100,000 orders take seconds, not minutes. Call inside an app context.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from extensions import db
from models import Category, Order, OrderLine, Payment, Price, Product, Variant, utcnow
from shop.demo import seed_demo
from core.search import fold

BATCH = 5000
CURRENCIES = {"XOF": 1000, "XAF": 1000, "RWF": 2000, "NGN": 250000, "USD": 200}
GATEWAYS = {"XOF": "ligdicash", "XAF": "payunit", "RWF": "irembopay", "NGN": "paycashless", "USD": "fcfpay"}
STATUSES = ["paid"] * 6 + ["pending"] * 2 + ["expired", "cancelled"]
PAYMENT_STATUS = {"paid": "succeeded", "pending": "pending", "expired": "expired", "cancelled": "cancelled"}


def _ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` and return their new ids, in order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        ids += list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), chunk))
    return ids


def grow_catalogue(total: int, stock: int = 1_000_000) -> list[int]:
    """The demo catalogue plus generated products up to ``total`` active products,
    each priced in every market; every product gets ``stock``. Returns all product ids."""
    seed_demo()
    categories = list(db.session.scalars(select(Category.id).order_by(Category.position)))
    have = db.session.scalar(select(func.count()).select_from(Product))
    rows = [dict(slug=f"bench-product-{i:06d}", name=f"Produit {i:06d}",
                 description=f"Article de test numéro {i}, fabriqué pour mesurer le catalogue.",
                 active=True, stock=stock, category_id=categories[i % len(categories)], created_at=utcnow())
            for i in range(have, total)]
    for row in rows:  # bulk INSERTs skip the ORM's before_insert: fold here as the app does
        row["search_text"] = fold(f"{row['name']} {row['description']}")
    new = _ids(Product, rows)
    prices = [dict(product_id=pid, currency=c, amount=base + (pid % 50) * base // 10)
              for pid in new for c, base in CURRENCIES.items()]
    for start in range(0, len(prices), BATCH):
        db.session.execute(insert(Price), prices[start:start + BATCH])
    variants = [dict(product_id=pid, option1="", option2="", option3="", stock=stock, position=0,
                     low_stock_alerted=False) for pid in new]  # each product's default variant
    for start in range(0, len(variants), BATCH):
        db.session.execute(insert(Variant), variants[start:start + BATCH])
    db.session.execute(Product.__table__.update().values(stock=stock))
    db.session.execute(Variant.__table__.update().values(stock=stock))
    db.session.commit()
    return list(db.session.scalars(select(Product.id).order_by(Product.id)))


def grow_orders(total: int, seed: int = 9) -> None:
    """Add orders up to ``total``: 1–3 lines, one payment each, spread over 90 days."""
    rnd = random.Random(seed)
    products = list(db.session.execute(select(Product.id, Product.name)))
    have = db.session.scalar(select(func.count()).select_from(Order))
    now = utcnow()
    for start in range(have, total, BATCH):
        count = min(BATCH, total - start)
        orders, details = [], []
        for i in range(start, start + count):
            currency = rnd.choice(list(CURRENCIES))
            status = rnd.choice(STATUSES)
            lines = [(rnd.choice(products), rnd.randint(1, 3)) for _ in range(rnd.randint(1, 3))]
            unit = CURRENCIES[currency]
            total_amount = sum(unit * q for _, q in lines)
            created = now - timedelta(minutes=rnd.randint(0, 90 * 24 * 60))
            orders.append(dict(
                reference=f"CMD-B{i:09d}", token=f"bench-token-{i:09d}", checkout_key=f"bench-key-{i:09d}",
                currency=currency, subtotal=total_amount, total=total_amount,
                customer_name=f"Client {i}", customer_email=f"client{i}@example.bf",
                customer_phone=f"+2267{i:07d}", language="fr", status=status, stock_released=status != "paid",
                created_at=created, updated_at=created, expires_at=created + timedelta(minutes=30),
                paid_at=created + timedelta(minutes=2) if status == "paid" else None))
            details.append((lines, unit, currency, status, created, total_amount, i))
        ids = _ids(Order, orders)
        line_rows, payment_rows = [], []
        for order_id, (lines, unit, currency, status, created, amount, i) in zip(ids, details):
            line_rows += [dict(order_id=order_id, product_id=pid, name=name, unit_price=unit,
                               quantity=q, line_total=unit * q) for (pid, name), q in lines]
            payment_rows.append(dict(
                order_id=order_id, reference=f"PAY-B{i:011d}", gateway=GATEWAYS[currency],
                status=PAYMENT_STATUS[status], amount=amount, currency=currency,
                gateway_ref=f"gw-{i:09d}", created_at=created, updated_at=created))
        db.session.execute(insert(OrderLine), line_rows)
        db.session.execute(insert(Payment), payment_rows)
        db.session.commit()
