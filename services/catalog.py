"""Reading the catalogue: products sold in a currency, by category or search."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from models import Category, Price, Product
from services import pricing, search

SEARCH_MAX = 80
PER_PAGE = 24


def categories() -> list[Category]:
    """All categories in display order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def products(currency: str, category: Category | None = None, query: str = "", page: int = 1):
    """One page of the active products sold in ``currency`` (XOF and XAF at par), optionally
    in a category or matching ``query`` (accents and case ignored)."""
    currencies = pricing.currencies_for(currency)
    sold_in = select(Price.product_id).where(Price.currency.in_(currencies))
    stmt = (
        select(Product)
        .where(Product.active.is_(True), Product.id.in_(sold_in))
        # only the prices that can sell here are loaded
        .options(selectinload(Product.prices.and_(Price.currency.in_(currencies))),
                 selectinload(Product.images))
        .order_by(Product.name, Product.id)
    )
    if category is not None:
        stmt = stmt.where(Product.category_id == category.id)
    found = search_condition(query)
    if found is not None:
        stmt = stmt.where(found)
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def search_condition(query: str):
    """The WHERE condition of a catalogue search (every word, accents and case ignored), or
    None for an empty query. Uses the folded ``search_text`` column (and its trigram index)."""
    return search.matches(Product.search_text, query.strip()[:SEARCH_MAX])


def category_by_slug(slug: str) -> Category | None:
    """The category called ``slug``."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def product_by_slug(slug: str) -> Product | None:
    """The active product called ``slug``."""
    return db.session.scalar(
        select(Product).where(Product.slug == slug, Product.active.is_(True))
        .options(selectinload(Product.prices), joinedload(Product.category),
                 selectinload(Product.images))
    )
