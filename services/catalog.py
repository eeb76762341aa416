"""Reading the catalogue: products sold in a currency, by category or search."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from extensions import db
from models import Category, Price, Product

SEARCH_MAX = 80
PER_PAGE = 24


def categories() -> list[Category]:
    """All categories in display order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def products(currency: str, category: Category | None = None, query: str = "", page: int = 1):
    """One page of the active products priced in ``currency``, optionally in a category or
    matching ``query``. Each product's ``prices`` holds only that currency's price."""
    stmt = (
        select(Product)
        .join(Price, (Price.product_id == Product.id) & (Price.currency == currency))
        .where(Product.active.is_(True))
        .options(contains_eager(Product.prices))
        .order_by(Product.name, Product.id)
    )
    if category is not None:
        stmt = stmt.where(Product.category_id == category.id)
    query = query.strip()[:SEARCH_MAX]
    if query:
        like = f"%{query.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Product.name.ilike(like), Product.description.ilike(like)))
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def category_by_slug(slug: str) -> Category | None:
    """The category called ``slug``."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def product_by_slug(slug: str) -> Product | None:
    """The active product called ``slug``."""
    return db.session.scalar(
        select(Product).where(Product.slug == slug, Product.active.is_(True))
        .options(selectinload(Product.prices), joinedload(Product.category))
    )
