"""Stock: reserved atomically at checkout, given back once when an order closes (all lines, or the
merchant's choice when a paid order is cancelled), held
again (all or nothing) when a payment arrives after the order expired."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update

from extensions import db
from models import Order, Product


class OutOfStock(Exception):
    """Not enough of a product left; the message is its name."""


def reserve_stock(product: Product, quantity: int) -> None:
    """Take ``quantity`` from stock atomically, or raise OutOfStock."""
    if not _take(product.id, quantity):
        raise OutOfStock(product.name)


def release_stock(order: Order, line_ids: Iterable[int] | None = None) -> bool:
    """Give a closing order's reserved stock back, once: every line, or only the lines in
    ``line_ids`` (a cancelled paid order whose other goods are damaged or already gone)."""
    if not _mark_released(order, True):
        return False
    keep = None if line_ids is None else set(line_ids)
    for line_id, product_id, quantity in _stocked_lines(order):
        if keep is None or line_id in keep:
            _give_back(product_id, quantity)
    return True


def reserve_again(order: Order) -> bool:
    """Hold an expired order's stock again (a payment arrived after its reservation ended):
    every line or none. True when the stock is held (again, or never released)."""
    if not _mark_released(order, False):
        return not db.session.scalar(db.select(Order.stock_released).where(Order.id == order.id))
    taken: list[tuple[int, int]] = []
    for _line_id, product_id, quantity in _stocked_lines(order):
        if not _take(product_id, quantity):  # one line cannot be served: give back what was taken
            for taken_id, taken_quantity in taken:
                _give_back(taken_id, taken_quantity)
            _mark_released(order, True)
            return False
        taken.append((product_id, quantity))
    return True


def _stocked_lines(order: Order) -> list[tuple[int, int, int]]:
    """(line id, product id, quantity) of the lines that hold stock (not free lines of a payment link)."""
    return [(line.id, line.product_id, line.quantity) for line in order.lines if line.product_id is not None]


def _mark_released(order: Order, released: bool) -> bool:
    """Flip ``stock_released`` to ``released`` if it is not so yet (one conditional UPDATE)."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(not released))
        .values(stock_released=released)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _take(product_id: int, quantity: int) -> bool:
    """Take ``quantity`` of a product if that many are left (never below zero)."""
    result = db.session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _give_back(product_id: int, quantity: int) -> None:
    db.session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(stock=Product.stock + quantity)
        .execution_options(synchronize_session=False)
    )
