"""Stock: reserved atomically at checkout, given back once when an unpaid order closes."""
from __future__ import annotations

from sqlalchemy import update

from extensions import db
from models import Order, Product


class OutOfStock(Exception):
    """Not enough of a product left; the message is its name."""


def reserve_stock(product: Product, quantity: int) -> None:
    """Take ``quantity`` from stock atomically, or raise OutOfStock."""
    result = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise OutOfStock(product.name)


def release_stock(order: Order) -> bool:
    """Give an unpaid order's reserved stock back, once."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(False))
        .values(stock_released=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    for line in order.lines:
        if line.product_id is None:
            continue  # a line that is not a catalogue product holds no stock
        db.session.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(stock=Product.stock + line.quantity)
            .execution_options(synchronize_session=False)
        )
    return True
