"""Reading the catalogue: products sold in a currency, by category or search.

What the shop's pages show of the catalogue changes rarely, so it is cached per
process, keyed by the ``catalog_version`` counter (one row, read once per request):
the category list, and each page of the product grid per market, language, category,
search and page, with its prices already formatted and its links already built.
Every write to a product, price or category (the admin, stock taken at checkout,
given back at expiry or cancel, demo data…) bumps the counter in its own
transaction, through the session hooks at the bottom of this module, so every
process stops using its cached pages at once. See docs/performance.md.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import cast

from flask import current_app, request, session, url_for
from sqlalchemy import event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload, selectinload

from core import pricing, search
from core.i18n import current_language
from core.money import format_money
from extensions import db
from models import (
    Category,
    Identity,
    ImageView,
    Price,
    Product,
    ProductImage,
    ProductOption,
    ShopSettings,
    Variant,
    VariantPrice,
    shop_identity,
)
from shop import cart as cart_service

SEARCH_MAX = 80
PER_PAGE = 24
#: Cached grid pages per process (oldest dropped first); searches are the many.
CACHE_MAX = 512
CATALOG_TABLES = frozenset({"product", "price", "category", "product_image", "shop_settings", "product_option",
                            "variant", "variant_price"})
_UNREAD = object()


@dataclass(frozen=True)
class CategoryView:
    id: int
    slug: str
    name: str
    name_en: str
    position: int
    image: ImageView | None = None

    @classmethod
    def of(cls, category: Category) -> CategoryView:
        image = (ImageView(category.image_digest, category.image_width, category.image_height,
                           category.image_widths) if category.image_digest else None)
        return cls(category.id, category.slug, category.name or "", category.name_en or "", category.position,
                   image)

    @property
    def display_name(self) -> str:
        """The name in the request's language, else the other one."""
        return Category.name_in(self, current_language())  # type: ignore[arg-type]


@dataclass(frozen=True)
class Card:
    """One product of the grid, ready to print: no database, no formatting left to do."""

    id: int
    slug: str
    name: str  # in the grid's language
    stock: int
    url: str
    image: ImageView | None
    price_text: str


@dataclass(frozen=True)
class GridPage:
    """A page of the grid. No COUNT: one row more than a page tells whether there is a next."""

    items: tuple[Card, ...]
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


# --- the version counter ------------------------------------------------------------------

def version() -> int | None:
    """This request's catalogue version (read once per request); None when the counter row
    is missing, and then nothing is cached."""
    cached = request.environ.get("comptoir.catalog_version", _UNREAD)
    if cached is _UNREAD:
        cached = request.environ["comptoir.catalog_version"] = db.session.connection().exec_driver_sql(
            "SELECT version FROM catalog_version WHERE id = 1").scalar()
    return cast("int | None", cached)


def bump(session: Session | None = None) -> None:
    """Mark the catalogue changed, in ``session``'s transaction (once per transaction)."""
    session = session or db.session()
    if session.info.get("catalog_bumped"):
        return
    session.info["catalog_bumped"] = True
    connection = session.connection()
    fresh = {"v": _fresh_version()}
    if connection.execute(text("UPDATE catalog_version SET version = :v WHERE id = 1"), fresh).rowcount == 0:
        # The row is created by the migration; a wiped table (test clean-up) gets it back.
        connection.execute(text("INSERT INTO catalog_version (id, version) VALUES (1, :v)"), fresh)


def _fresh_version() -> int:
    """A new catalogue version: random (31 bits, the column is an INTEGER), not the old one + 1.
    A counter that only grows would meet its old numbers again after the database is restored
    from a backup, and a process (or a browser's ETag) still holding pages of the lost timeline
    under those numbers would show them; a random number is a new one but once in two billion."""
    return secrets.randbelow(2**31 - 1) + 1


class _Cache:
    """A small thread-safe dict that forgets everything from older versions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.data: dict = {}

    def get(self, version: int | None, key):
        if version is None or version != self.version:
            return None
        return self.data.get(key)

    def put(self, version: int | None, key, value) -> None:
        if version is None:
            return
        with self.lock:
            if version != self.version:
                # Versions are not ordered (see _fresh_version): a slower request that read the
                # previous version starts the cache over for it, and the next request with the
                # current one starts it over again. A render more, never a page of another version.
                self.version, self.data = version, {}
            if len(self.data) >= CACHE_MAX:
                self.data.pop(next(iter(self.data)))
            self.data[key] = value


_cache = _Cache()


def clear_cache() -> None:
    """Forget this process's cached pages (tests, benchmarks)."""
    with _cache.lock:
        _cache.version, _cache.data = None, {}


# --- reading ------------------------------------------------------------------------------

def categories() -> list[CategoryView]:
    """The categories the shop shows (not hidden), in display order (cached per catalogue version)."""
    current = version() if _in_request() else None
    cached = _cache.get(current, "categories")
    if cached is None:
        cached = [CategoryView.of(c) for c in db.session.scalars(
            select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.name))]
        _cache.put(current, "categories", cached)
    return cached


def identity() -> Identity:
    """The shop's name, contact, pages (models.shop_identity), cached per catalogue version:
    saving the settings moves the version, so every process reads them again."""
    try:
        current = version() if _in_request() else None
        cached = _cache.get(current, "identity")
        if cached is None:
            cached = shop_identity(current_app.config)
            _cache.put(current, "identity", cached)
        return cached
    except SQLAlchemyError:  # a page (an error page) rendered while the database cannot answer
        db.session.rollback()
        return shop_identity(current_app.config, read=False)


def grid(currency: str, language: str, category: Category | CategoryView | None = None, query: str = "",
         page: int = 1) -> GridPage:
    """One page of the product grid, cached per version, market, language, category, search, page."""
    query = _clean(query)
    current = version()
    key = ("grid", currency, language, category.id if category else None, query.casefold(), page,
           request.script_root)
    cached = _cache.get(current, key)
    if cached is None:
        rows = list(db.session.scalars(
            _products_stmt(currency, category, query).limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)
        ).unique())
        cards = tuple(
            Card(p.id, p.slug, p.name_in(language), p.stock, url_for("shop.product", slug=p.slug),
                 ImageView.of(p.main_image), format_money(p.selling_price(currency) or 0, currency, language))
            for p in rows[:PER_PAGE])
        cached = GridPage(cards, page, len(rows) > PER_PAGE)
        _cache.put(current, key, cached)
    return cached


@dataclass(frozen=True)
class Suggestion:
    name: str
    url: str


#: How alike a word of the query and a word of a name must be to suggest it (difflib's ratio).
SUGGEST_CUTOFF = 0.6
SUGGEST_MAX = 5


def suggestions(currency: str, language: str, query: str) -> tuple[Suggestion, ...]:
    """For a search that found nothing: the products sold here whose names come closest to the
    query's words ("coffee" → Café du Rwanda, "tshirt" → T-shirt…), best first (cached per version)."""
    wanted = search.words(_clean(query))
    if not wanted:
        return ()
    current = version()
    key = ("suggest", currency, language, " ".join(wanted))
    cached = _cache.get(current, key)
    if cached is None:
        scored = []
        for product in db.session.scalars(_products_stmt(currency, None, "")).unique():
            names = {product.name or "", product.name_en or ""}
            name_words = [w for name in names for w in search.fold(name).replace("-", " ").split() if len(w) > 1]
            joined = [search.fold(name).replace("-", "").replace(" ", "") for name in names]
            score = max((SequenceMatcher(None, q, w).ratio() for q in wanted for w in name_words + joined),
                        default=0.0)
            if score >= SUGGEST_CUTOFF:
                scored.append((-score, product.name_in(language), url_for("shop.product", slug=product.slug)))
        cached = tuple(Suggestion(name, url) for _, name, url in sorted(scored)[:SUGGEST_MAX])
        _cache.put(current, key, cached)
    return cached


def products(currency: str, category: Category | None = None, query: str = "", page: int = 1):
    """One page of the active products sold in ``currency`` (ORM objects, not cached; XOF and
    XAF at par), optionally in a category or matching ``query`` (accents and case ignored)."""
    return db.paginate(_products_stmt(currency, category, _clean(query)), page=page, per_page=PER_PAGE,
                       error_out=False)


def _clean(query: str) -> str:
    return query.strip()[:SEARCH_MAX]


def _products_stmt(currency: str, category, query: str):
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
    return stmt


def search_condition(query: str):
    """The WHERE condition of a catalogue search (every word, accents and case ignored), or
    None for an empty query. Uses the folded ``search_text`` column (and its trigram index)."""
    return search.matches(Product.search_text, query.strip()[:SEARCH_MAX])


def category_by_slug(slug: str) -> CategoryView | None:
    """The category called ``slug`` (from the cached list)."""
    return next((c for c in categories() if c.slug == slug), None)


def product_by_slug(slug: str) -> Product | None:
    """The active product called ``slug``."""
    return db.session.scalar(
        select(Product).where(Product.slug == slug, Product.active.is_(True))
        .options(selectinload(Product.prices), joinedload(Product.category),
                 selectinload(Product.images), selectinload(Product.options),
                 selectinload(Product.variants).selectinload(Variant.prices))
    )


@dataclass(frozen=True)
class PriceView:
    amount: int
    currency: str


@dataclass(frozen=True)
class VariantView:
    """One combination on the product page: its values, stock, own prices and photo."""

    id: int
    label: str
    values: tuple[str, ...]
    stock: int
    prices: tuple[PriceView, ...]
    image: ImageView | None

    def price_in(self, currency: str) -> PriceView | None:
        return next((p for p in self.prices if p.currency == currency), None)


@dataclass(frozen=True)
class ProductView:
    """What the product page shows of a product, cached per catalogue version."""

    id: int
    slug: str
    name: str
    name_en: str
    description: str
    description_en: str
    stock: int
    category: CategoryView | None
    prices: tuple[PriceView, ...]
    images: tuple[ImageView, ...]
    main_image: ImageView | None
    #: The option names (Taille, Couleur) and the variants a customer picks from; () without options.
    options: tuple[str, ...] = ()
    variants: tuple[VariantView, ...] = ()
    #: The options' English names (Size, Colour), "" where the merchant gave none.
    options_en: tuple[str, ...] = ()

    def price_in(self, currency: str) -> PriceView | None:
        return next((p for p in self.prices if p.currency == currency), None)

    def variant_price(self, variant: VariantView, currency: str) -> int | None:
        """What ``variant`` costs in ``currency``: its own price (or par twin's), else the product's."""
        own = pricing.selling_price(variant, currency)
        return own if own is not None else self.selling_price(currency)

    def variant(self, variant_id: int | None) -> VariantView | None:
        return next((v for v in self.variants if v.id == variant_id), None)

    def selling_price(self, currency: str) -> int | None:
        """What a customer pays in ``currency`` (XOF and XAF at par), or None."""
        return pricing.selling_price(self, currency)

    @property
    def display_name(self) -> str:
        """The name in the request's language, else the other one."""
        return Product.name_in(self, current_language())  # type: ignore[arg-type]

    @property
    def display_description(self) -> str:
        return Product.description_in(self, current_language())  # type: ignore[arg-type]

    @property
    def display_options(self) -> tuple[str, ...]:
        """The option names in the request's language (the French ones where no English was given)."""
        if current_language() != "en":
            return self.options
        return tuple(en or name for name, en in zip(self.options, self.options_en, strict=False))


def product_view(slug: str) -> ProductView | None:
    """The active product called ``slug``, as the product page shows it (cached)."""
    current = version()
    key = ("product", slug)
    cached = _cache.get(current, key)
    if cached is None:
        product = product_by_slug(slug)
        if product is None:
            return None  # unknown slugs are not cached: anyone can make up many
        category = product.category
        cached = ProductView(
            product.id, product.slug, product.name or "", product.name_en or "", product.description or "",
            product.description_en or "", product.stock,
            CategoryView.of(category) if category else None,
            tuple(PriceView(p.amount, p.currency) for p in product.prices),
            tuple(v for v in (ImageView.of(i) for i in product.images) if v is not None),
            ImageView.of(product.main_image),
            tuple(o.name for o in product.options),
            tuple(VariantView(v.id, v.label, v.values, v.stock, tuple(PriceView(p.amount, p.currency) for p in v.prices),
                              ImageView.of(v.image)) for v in product.variants) if product.options else (),
            tuple(o.name_en or "" for o in product.options))
        _cache.put(current, key, cached)
    return cached


def page_etag(*parts: object) -> str | None:
    """An ETag for a catalogue page as this browser sees it: the catalogue version, the
    market, language, cart size and the session's CSRF secret (the page's forms carry a
    token made from it), and ``parts``. None when the page must be rendered anyway
    (pending flash messages, no session secret yet, no version)."""
    current = version()
    secret = session.get("csrf_token")
    if current is None or not secret or session.get("_flashes"):
        return None

    raw = repr((current, cart_service.current_currency(), current_language(),
                sum(cart_service.raw_items().values()), secret, request.full_path, *parts))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


#: Stands for this request's CSRF token in a cached page (letters only: nothing to escape).
TOKEN_SLOT = "CSRFTOKENSLOTa7f3c9e1d5b2"


def cached_page(render: Callable[[], str]) -> str:
    """A catalogue page's HTML, rendered once per catalogue version, market, language, cart
    size and URL, then served from memory with this request's CSRF token put in its slot.

    ``render()`` renders the page as usual; this request's token is then swapped for the slot
    before the HTML is kept (the token is a long random string: nothing else matches it). A
    page with flash messages (shown once) is rendered and not kept. Only for pages whose HTML
    depends on nothing else of the session than the key says."""
    from flask_wtf.csrf import generate_csrf

    current = version()
    if current is None or session.get("_flashes"):
        return render()
    key = ("page", cart_service.current_currency(), current_language(),
           sum(cart_service.raw_items().values()), request.script_root, request.full_path)
    html = _cache.get(current, key)
    token = generate_csrf()
    if html is None:
        page = render()
        _cache.put(current, key, page.replace(token, TOKEN_SLOT))
        return page
    return html.replace(TOKEN_SLOT, token)


def _in_request() -> bool:
    from flask import has_request_context

    return has_request_context()


# --- invalidation: every write to the catalogue's tables bumps the version ----------------
# Writes only mark the transaction; the counter is bumped just before it commits. Taking the
# counter row's lock last keeps lock order the same in every transaction (product rows, then the
# counter): two checkouts reserving the same products cannot deadlock on it.

@event.listens_for(Session, "before_flush")
def _flushing_catalogue(session: Session, _context, _instances) -> None:
    catalogue = (Product, Price, Category, ProductImage, ShopSettings,  # pages show the shop's name too
                 ProductOption, Variant, VariantPrice)
    if any(isinstance(o, catalogue) for o in session.new) or \
            any(isinstance(o, catalogue) for o in session.deleted) or \
            any(isinstance(o, catalogue) and session.is_modified(o) for o in session.dirty):
        session.info["catalog_dirty"] = True


@event.listens_for(Session, "do_orm_execute")
def _executing_on_catalogue(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in CATALOG_TABLES:
        state.session.info["catalog_dirty"] = True


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # what commit would flush next: its catalogue writes count too
    if session.info.pop("catalog_dirty", False):
        bump(session)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return  # a flush's own subtransaction, or a savepoint: the real transaction goes on
    session.info.pop("catalog_bumped", None)
    session.info.pop("catalog_dirty", None)
