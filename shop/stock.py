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


def reserve_again(order: Order) -> bool:
    """Hold an expired order's stock again (a payment arrived after its reservation ended):
    every line or none. True when the stock is held (again, or never released)."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(True))
        .values(stock_released=False)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return not db.session.scalar(db.select(Order.stock_released).where(Order.id == order.id))
    taken: list[tuple[int, int]] = []
    for line in order.lines:
        if line.product_id is None:
            continue
        held = db.session.execute(
            update(Product)
            .where(Product.id == line.product_id, Product.stock >= line.quantity)
            .values(stock=Product.stock - line.quantity)
            .execution_options(synchronize_session=False)
        )
        if held.rowcount != 1:  # one line cannot be served: give back what was taken, hold nothing
            for product_id, quantity in taken:
                db.session.execute(update(Product).where(Product.id == product_id)
                                   .values(stock=Product.stock + quantity)
                                   .execution_options(synchronize_session=False))
            db.session.execute(update(Order).where(Order.id == order.id).values(stock_released=True)
                               .execution_options(synchronize_session=False))
            return False
        taken.append((line.product_id, line.quantity))
    return True
