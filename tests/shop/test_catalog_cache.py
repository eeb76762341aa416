"""Catalogue caching (issue 16): cached grid pages and categories follow every product,
price, category and stock change, made in this process or another; ETag/304 for a
returning browser whose page has not changed."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from extensions import db
from models import Category, Product
from shop import catalog
from tests.helpers import count_queries, set_stock, stock_of, text_of


@pytest.fixture(autouse=True)
def caching_is_on(app):
    """The counter row exists (re-created by the demo seeding's own bump after the clean-up),
    so pages are cached: these tests would pass trivially without it."""
    with app.app_context():
        assert db.session.execute(text("SELECT version FROM catalog_version WHERE id = 1")).scalar()
        db.session.remove()


def _product(slug: str) -> Product:
    return db.session.scalar(select(Product).where(Product.slug == slug))


def test_price_and_name_changes_show_at_once(shopper, ctx):
    assert "Savon noir" in text_of(shopper.get("/"))
    product = _product("savon-noir")
    price = next(p for p in product.prices if p.currency == "XOF")
    price.amount, product.name = 987_600, "Savon noir du Faso"
    db.session.commit()
    page = text_of(shopper.get("/"))
    assert "987 600" in page and "Savon noir du Faso" in page


def test_stock_taken_by_a_bulk_update_and_by_checkout_shows(shopper, ctx):
    shopper.get("/")
    set_stock("savon-noir", 1)  # the variant's and the product's columns, as shop.stock moves them
    shopper.add_to_cart("savon-noir")
    assert shopper.checkout().status_code == 303  # the last unit reserved at checkout
    assert stock_of("savon-noir") == 0
    page = shopper.get("/").text
    card = page[page.index("Savon noir"):][:600]
    assert "Out of stock" in card


def test_categories_follow_changes(shopper, ctx):
    shopper.get("/")
    db.session.add(Category(slug="nouveautes", name="Nouveautés", position=99))
    db.session.commit()
    assert "Nouveautés" in text_of(shopper.get("/"))
    assert shopper.get("/?category=nouveautes").status_code == 200


def test_a_change_made_by_another_process_is_seen(app, shopper, ctx):
    """Another process writes with its own connection: only the version row tells us."""
    assert "Savon noir" in text_of(shopper.get("/"))
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE product SET name = 'Savon de Ouaga' WHERE slug = 'savon-noir'"))
            conn.execute(text("UPDATE catalog_version SET version = version + 1 WHERE id = 1"))
    finally:
        other.dispose()
    assert "Savon de Ouaga" in text_of(shopper.get("/"))


def _set_price(slug: str, amount: int) -> None:
    product = _product(slug)
    next(p for p in product.prices if p.currency == "XOF").amount = amount
    db.session.commit()


def test_a_database_restored_from_a_backup_never_shows_pages_of_the_lost_timeline(app, shopper, ctx):
    """Backup at version v1; an edit (price 2 000) moves to v2 and its pages are cached; the
    backup is restored (price and version back as they were), then one edit (price 2 500). A
    counter that only grows would be at v2 again and show the cached 2 000 of the lost timeline."""
    assert "1 500 F CFA" in text_of(shopper.get("/products/savon-noir")).replace("\u202f", " ")
    backup = db.session.execute(text("SELECT version FROM catalog_version WHERE id = 1")).scalar()
    _set_price("savon-noir", 2000)
    assert "2 000 F CFA" in text_of(shopper.get("/products/savon-noir")).replace("\u202f", " ")  # cached now
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.begin() as conn:  # the restore: another tool, another connection
            conn.execute(text("UPDATE price SET amount = 1500 WHERE currency = 'XOF' AND product_id = "
                              "(SELECT id FROM product WHERE slug = 'savon-noir')"))
            conn.execute(text("UPDATE catalog_version SET version = :v WHERE id = 1"), {"v": backup})
    finally:
        other.dispose()
    db.session.expire_all()
    _set_price("savon-noir", 2500)
    page = text_of(shopper.get("/products/savon-noir")).replace("\u202f", " ")
    assert "2 500 F CFA" in page and "2 000 F CFA" not in page


def test_unchanged_page_answers_304_to_a_returning_browser(shopper, ctx):
    first = shopper.get("/")
    first = shopper.get("/")  # the session now holds its CSRF secret
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = shopper.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert shopper.get("/?q=wax", headers={"If-None-Match": etag}).status_code == 200  # another page
    shopper.add_to_cart("savon-noir")  # the header's cart count changed
    assert shopper.get("/", headers={"If-None-Match": etag}).status_code == 200
    etag = shopper.get("/").headers["ETag"]
    product = _product("cafe-rwanda")
    product.stock += 1
    db.session.commit()
    assert shopper.get("/", headers={"If-None-Match": etag}).status_code == 200  # catalogue changed


def test_grid_pages_need_no_count(client, ctx):
    catalog.clear_cache()
    with count_queries() as cold:
        assert client.get("/?q=a").status_code == 200
    with count_queries() as seen:
        assert client.get("/?q=a").status_code == 200
    assert not any("count(" in s.lower() for s in cold)
    assert len(seen) == 1 and "catalog_version" in seen[0]  # warm: only the version is read


def test_a_cached_page_carries_each_browsers_own_csrf_token(base_url, ctx):
    from shop.catalog import TOKEN_SLOT
    from tests.helpers import CSRF, Shopper

    with Shopper(base_url) as first, Shopper(base_url) as second:
        pages = [first.get("/").text, second.get("/").text]
        tokens = [set(CSRF.findall(page)) for page in pages]
        assert all(len(t) == 1 for t in tokens) and tokens[0] != tokens[1]
        assert not any(TOKEN_SLOT in page for page in pages)
        assert second.add_to_cart("savon-noir").status_code == 303  # the token works for its session
        assert 'id="cart-count">1<' in second.get("/").text and 'id="cart-count">0<' in first.get("/").text


def test_product_page_follows_stock_and_price(shopper, ctx):
    assert "in stock" in text_of(shopper.get("/products/savon-noir"))
    set_stock("savon-noir", 0)
    product = _product("savon-noir")
    next(p for p in product.prices if p.currency == "XOF").amount = 123_400
    db.session.commit()
    page = text_of(shopper.get("/products/savon-noir"))
    assert "Out of stock" in page and "123 400" in page
    assert shopper.get("/products/no-such-thing").status_code == 404


def test_product_page_304_and_own_token(base_url, ctx):
    from tests.helpers import CSRF, Shopper

    with Shopper(base_url) as first, Shopper(base_url) as second:
        first.get("/"), second.get("/")
        a, b = first.get("/products/savon-noir"), second.get("/products/savon-noir")
        assert CSRF.findall(a.text) != CSRF.findall(b.text)
        assert first.get("/products/savon-noir", headers={"If-None-Match": a.headers["ETag"]}).status_code == 304
        form = CSRF.search(b.text).group(1)
        product_id = _product("savon-noir").id
        added = second.http.post(second.url("/cart/add"), data={"csrf_token": form, "product_id": product_id,
                                                                 "quantity": 2}, allow_redirects=False)
        assert added.status_code == 303 and 'id="cart-count">2<' in second.get("/").text
