"""The merchant's categories (issue 32): create, rename in both languages, order, hide, and put
products in them; the shop follows at once, in the customer's language. Real HTTP."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Category, Product
from tests.admin.conftest import text_of
from tests.helpers import Shopper


def category_form(**fields) -> dict:
    return {"name": "Chaussures", "name_en": "Shoes", "slug": "", "position": "0", "active": "y", **fields}


def test_a_new_category_is_in_the_shop_in_both_languages(admin, base_url):
    response = admin.post("/admin/categories/new", category_form(position="1"), csrf_from="/admin/categories/new")
    assert response.status_code == 303
    category = db.session.scalar(select(Category).where(Category.slug == "chaussures"))
    assert (category.name, category.name_en, category.position, category.active) == ("Chaussures", "Shoes", 1, True)
    assert "Chaussures" in text_of(admin.get("/admin/categories"))
    with Shopper(base_url) as customer:
        customer.post("/language", {"language": "en"})
        english = text_of(customer.get("/"))
        assert "Shoes" in english
        customer.post("/language", {"language": "fr"})
        french = text_of(customer.get("/"))
        assert "Chaussures" in french and "Shoes" not in french
        assert customer.get("/?category=chaussures").status_code == 200


def test_rename_reorder_and_hide(admin, base_url):
    first = db.session.scalar(select(Category).order_by(Category.position)).id
    response = admin.post(f"/admin/categories/{first}", category_form(name="Tissus", name_en="Fabrics",
                                                                       slug="tissus", position="9", active=""),
                          csrf_from=f"/admin/categories/{first}")
    assert response.status_code == 303
    db.session.expire_all()
    category = db.session.get(Category, first)
    assert (category.name, category.slug, category.position, category.active) == ("Tissus", "tissus", 9, False)
    with Shopper(base_url) as customer:
        assert "Tissus" not in text_of(customer.get("/"))  # hidden: out of the list
        assert customer.get("/?category=tissus").status_code == 404
        assert "Pagne wax 6 yards" in text_of(customer.get("/?q=pagne"))  # its products stay on sale


def test_a_product_is_put_in_a_category_from_its_page(admin):
    admin.post("/admin/categories/new", category_form(), csrf_from="/admin/categories/new")
    category = db.session.scalar(select(Category).where(Category.slug == "chaussures"))
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    page = admin.get(f"/admin/products/{product.id}").text
    assert f'value="{category.id}">Chaussures' in page


def test_bad_categories_are_refused_with_the_reason_and_nothing_saved(admin):
    before = db.session.scalar(select(db.func.count()).select_from(Category))
    empty = admin.post("/admin/categories/new", category_form(name="", name_en=""), csrf_from="/admin/categories/new")
    assert empty.status_code == 400 and "Give the category a name" in text_of(empty)
    taken = db.session.scalar(select(Category.slug))
    clash = admin.post("/admin/categories/new", category_form(slug=taken), csrf_from="/admin/categories/new")
    assert clash.status_code == 400 and "already has this address" in text_of(clash)
    symbols = admin.post("/admin/categories/new", category_form(name="!!!", name_en="", slug=""),
                         csrf_from="/admin/categories/new")
    assert symbols.status_code == 400 and "letters or digits" in text_of(symbols)
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(Category)) == before


def test_the_dashboard_lists_hidden_categories_with_their_products(admin):
    page = text_of(admin.get("/admin/categories"))
    assert "Pagnes & textiles" in page and "Wax prints & textiles" in page
    assert admin.get("/admin/categories/999999").status_code == 404


def test_a_category_photo_heads_its_page_and_can_be_removed(admin, base_url):
    from io import BytesIO

    from PIL import Image

    png = BytesIO()
    Image.new("RGB", (800, 300), (21, 128, 61)).save(png, "PNG")
    response = admin.post("/admin/categories/new", category_form(), csrf_from="/admin/categories/new",
                          files={"photo": ("wax.png", png.getvalue(), "image/png")})
    assert response.status_code == 303
    category = db.session.scalar(select(Category).where(Category.slug == "chaussures"))
    assert category.image_digest and (category.image_width, category.image_height) == (800, 300)
    with Shopper(base_url) as customer:
        page = customer.get("/?category=chaussures").text
        assert '<picture class="category-photo">' in page
        source = page.split('class="category-photo"')[1].split('src="')[1].split('"')[0]
        assert customer.get(source).status_code == 200
    admin.post(f"/admin/categories/{category.id}", category_form(remove_photo="y"),
               csrf_from=f"/admin/categories/{category.id}")
    db.session.expire_all()
    assert db.session.get(Category, category.id).image_digest == ""


def test_a_category_photo_that_is_not_a_picture_is_refused(admin):
    response = admin.post("/admin/categories/new", category_form(), csrf_from="/admin/categories/new",
                          files={"photo": ("x.txt", b"not a picture", "text/plain")})
    assert response.status_code == 400
    assert db.session.scalar(select(Category).where(Category.slug == "chaussures")) is None
