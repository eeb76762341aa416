"""Migration 0008 on a database that already has orders: they get no delivery and the
fulfilment status "not_applicable", and the CHECK constraint refuses unknown statuses."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from extensions import db

ORDER = text(
    "INSERT INTO orders (reference, token, checkout_key, currency, subtotal, total, customer_name, "
    "customer_email, customer_phone, language, status, stock_released, created_at, updated_at, expires_at) "
    "VALUES ('CMD-OLD1', 'tok-old', 'key-old', 'XOF', 1500, 1500, 'Awa', 'awa@example.bf', '+22670123456', "
    "'fr', 'paid', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def test_existing_orders_become_not_applicable(app):
    with app.app_context():
        downgrade(revision="0004")
        try:
            db.session.execute(ORDER)
            db.session.commit()
            upgrade()
            row = db.session.execute(text(
                "SELECT delivery_method, delivery_fee, fulfilment_status, total FROM orders "
                "WHERE reference = 'CMD-OLD1'")).one()
            assert tuple(row) == (None, 0, "not_applicable", 1500)
            with pytest.raises(IntegrityError):
                db.session.execute(text("UPDATE orders SET fulfilment_status = 'lost' WHERE reference = 'CMD-OLD1'"))
                db.session.flush()
            db.session.rollback()
        finally:
            db.session.rollback()
            upgrade()
            db.session.execute(text("DELETE FROM orders"))
            db.session.commit()
            db.session.remove()
