"""Stock, held per variant: reserved atomically at checkout, given back once when an order closes
(every line, or the merchant's choice when a paid order is cancelled), held again (all or nothing) when a payment arrives after the order expired.

``Product.stock`` is the sum of its variants' stock, moved by the same delta in the same
transaction. Rows are always locked in one order (variants by id, then products by id, then the
catalogue's version counter): two checkouts of the same products cannot deadlock.

A variant that falls to its low-stock threshold is marked once (``low_stock_alerted``); the
caller tells the merchant (one e-mail per crossing, mail.outbox). A restock above the threshold
clears the mark.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from extensions import db
from models import Order, Product, ShopSettings, Variant


class OutOfStock(Exception):
    """Not enough of a variant left; the message is its name (with the variant's values)."""


def variant_name(variant: Variant) -> str:
    """The product's name with the variant's values: "T-shirt (M / Rouge)"."""
    label = variant.label
    return f"{variant.product.name} ({label})" if label else variant.product.name


def reserve_stock(variant: Variant, quantity: int) -> list[Variant]:
    """Take ``quantity`` of one variant atomically, or raise OutOfStock. Returns the variants
    that just fell to their low-stock threshold (to tell the merchant once)."""
    return reserve_lines([(variant, quantity)])


def reserve_lines(lines: Iterable[tuple[Variant, int]], undo: bool = False) -> list[Variant]:
    """Take every line's quantity, all or nothing: on OutOfStock (naming the first variant
    short) the caller rolls back, or with ``undo`` what was taken is given back here. Returns
    the variants now at or below their threshold that were not yet marked so."""
    wanted: Counter[int] = Counter()
    variants: dict[int, Variant] = {}
    for variant, quantity in lines:
        wanted[variant.id] += quantity
        variants[variant.id] = variant
    taken: list[int] = []
    for variant_id in sorted(wanted):
        if not _take(variant_id, wanted[variant_id]):
            for taken_id in taken if undo else ():
                _give_back(taken_id, wanted[taken_id])
            raise OutOfStock(variant_name(variants[variant_id]))
        taken.append(variant_id)
    _move_products(_per_product(variants, wanted, -1))
    return [variants[i] for i in sorted(wanted) if _mark_low(variants[i])]


def release_stock(order: Order, line_ids: Iterable[int] | None = None) -> bool:
    """Give a closing order's reserved stock back, once: every line, or only the lines in
    ``line_ids`` (a cancelled paid order whose other goods are damaged or already gone)."""
    if not _mark_released(order, True):
        return False
    give_back(_stocked_lines(order, None if line_ids is None else set(line_ids)))
    return True


def give_back(lines: Iterable[tuple[Variant, int]]) -> None:
    """Put ``quantity`` of each variant back on sale. A low-stock mark stays: stock coming back
    from unpaid orders is not a restock (only the merchant's is: refresh_low_marks), so a
    variant hovering at its threshold does not e-mail the merchant again and again."""
    wanted: Counter[int] = Counter()
    variants: dict[int, Variant] = {}
    for variant, quantity in lines:
        wanted[variant.id] += quantity
        variants[variant.id] = variant
    for variant_id in sorted(wanted):
        _give_back(variant_id, wanted[variant_id])
    _move_products(_per_product(variants, wanted, +1))


def reserve_again(order: Order) -> tuple[bool, list[Variant]]:
    """Hold an expired order's stock again (a payment arrived after its reservation ended):
    every line or none. (True, variants now low) when the stock is held (again, or never
    released); (False, []) when some line cannot be served."""
    if not _mark_released(order, False):
        return not db.session.scalar(db.select(Order.stock_released).where(Order.id == order.id)), []
    try:
        return True, reserve_lines(_stocked_lines(order), undo=True)
    except OutOfStock:
        _mark_released(order, True)
        return False, []


def threshold(product: Product) -> int:
    """The product's low-stock threshold, else the shop's default (dashboard), else configuration."""
    if product.low_stock_threshold is not None:
        return product.low_stock_threshold
    return shop_threshold()


def shop_threshold() -> int:
    """The default threshold: the dashboard's setting, else ``LOW_STOCK_THRESHOLD``."""
    shop_default = db.session.scalar(select(ShopSettings.low_stock_threshold).where(ShopSettings.id == 1))
    return shop_default if shop_default is not None else int(current_app.config["LOW_STOCK_THRESHOLD"])


def low_stock(limit: int | None = None) -> list[Variant]:
    """Variants of products on sale at or below their threshold, fewest units first (the
    dashboard's list: read live, whatever the e-mail marks say)."""
    stmt = (select(Variant).join(Product, Product.id == Variant.product_id)
            .where(Product.active.is_(True),
                   Variant.stock <= func.coalesce(Product.low_stock_threshold, shop_threshold()))
            .options(joinedload(Variant.product))
            .order_by(Variant.stock, Product.name, Variant.position))
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


def refresh_low_marks(product: Product) -> list[Variant]:
    """After the merchant changed a product's stock or threshold: clear the marks of variants
    above it, mark those at or below it. Returns the newly marked ones."""
    low = []
    for variant in product.variants:
        if variant.id is None:
            continue
        _clear_low(variant)
        if _mark_low(variant):
            low.append(variant)
    return low


def _per_product(variants: dict[int, Variant], wanted: Counter[int], sign: int) -> dict[int, int]:
    moves: Counter[int] = Counter()
    for variant_id, quantity in wanted.items():
        moves[variants[variant_id].product_id] += sign * quantity
    return dict(moves)


def _stocked_lines(order: Order, only: set[int] | None = None) -> list[tuple[Variant, int]]:
    """(variant, quantity) of the lines that hold stock (not free lines of a payment link), or
    of those among the line ids ``only``."""
    lines = [line for line in order.lines if line.variant_id is not None and (only is None or line.id in only)]
    ids = [line.variant_id for line in lines]
    found = {v.id: v for v in db.session.scalars(select(Variant).where(Variant.id.in_(ids)))} if ids else {}
    return [(found[line.variant_id], line.quantity) for line in lines if line.variant_id in found]


def _mark_released(order: Order, released: bool) -> bool:
    """Flip ``stock_released`` to ``released`` if it is not so yet (one conditional UPDATE)."""
    result = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.stock_released.is_(not released))
        .values(stock_released=released)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _take(variant_id: int, quantity: int) -> bool:
    """Take ``quantity`` of a variant if that many are left (never below zero)."""
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _give_back(variant_id: int, quantity: int) -> None:
    db.session.execute(
        update(Variant)
        .where(Variant.id == variant_id)
        .values(stock=Variant.stock + quantity)
        .execution_options(synchronize_session=False)
    )


def _move_products(moves: dict[int, int]) -> None:
    """Move each product's total by the same delta as its variants (products by id: lock order)."""
    for product_id in sorted(moves):
        if moves[product_id]:
            db.session.execute(
                update(Product)
                .where(Product.id == product_id)
                .values(stock=Product.stock + moves[product_id])
                .execution_options(synchronize_session=False)
            )


def _mark_low(variant: Variant) -> bool:
    """Mark the variant low if it is at or below its threshold and not marked yet (True: it
    just crossed; exactly one transaction sees True per crossing)."""
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.low_stock_alerted.is_(False),
               Variant.stock <= threshold(variant.product))
        .values(low_stock_alerted=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _clear_low(variant: Variant) -> None:
    db.session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.low_stock_alerted.is_(True),
               Variant.stock > threshold(variant.product))
        .values(low_stock_alerted=False)
        .execution_options(synchronize_session=False)
    )
