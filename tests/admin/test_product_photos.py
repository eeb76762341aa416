"""The merchant adds several photos, chooses the main one and deletes some; French and
English texts are edited side by side."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from extensions import db
from models import ImageBlob, Product
from tests.admin.conftest import text_of
from tests.media.test_images import photo

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _form(**overrides) -> dict:
    data = {"name": "Sac en raphia", "name_en": "Raffia bag", "slug": "", "description": "Tressé main.",
            "description_en": "Hand-woven.", "category_id": "", "stock": "12", "active": "y",
            "irembopay_product_code": "", "price_XOF": "9500", "price_XAF": "", "price_RWF": "",
            "price_NGN": "", "price_USD": "16.50"}
    data.update(overrides)
    return data


def _post(admin, path: str, data: dict, files: list):
    token = admin.csrf(path)
    return admin.http.post(admin.base_url + path, data={**data, "csrf_token": token}, files=files,
                           allow_redirects=False, timeout=60)


def _product(slug: str = "sac-en-raphia") -> Product | None:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.slug == slug))


def test_create_with_two_photos_first_is_main_and_both_shown(admin, shopper):
    files = [("images", ("a.jpg", photo(1600, 1200), "image/jpeg")),
             ("images", ("b.png", photo(800, 800, "PNG", colour=(0, 80, 160)), "image/png"))]
    response = _post(admin, "/admin/products/new", _form(), files)
    assert response.status_code == 303, text_of(response)[:500]
    product = _product()
    assert [(i.is_main, i.widths) for i in product.images] == [(True, "320,640,1280"), (False, "320,640,800")]
    assert product.name_en == "Raffia bag" and product.description_en == "Hand-woven."
    page = shopper.get("/products/sac-en-raphia").text
    assert all(i.digest in page for i in product.images)
    assert page.count("<picture>") == 2
    form = admin.get(f"/admin/products/{product.id}").text
    assert f'value="{product.images[0].id}" checked' in form


def test_choose_main_and_delete(admin, ctx):
    _post(admin, "/admin/products/new", _form(), [
        ("images", ("a.jpg", photo(700, 500), "image/jpeg")),
        ("images", ("b.jpg", photo(700, 500, colour=(10, 10, 200)), "image/jpeg"))])
    product = _product()
    first, second = product.images
    second_id, second_digest = second.id, second.digest
    path = f"/admin/products/{product.id}"
    data = _form(slug="sac-en-raphia", stock_seen="12", main_image=str(second.id))
    assert _post(admin, path, data, []).status_code == 303
    assert [i.id for i in _product().images if i.is_main] == [second.id]
    data = _form(slug="sac-en-raphia", stock_seen="12", main_image=str(second_id), delete_images=[str(second_id)])
    assert _post(admin, path, data, []).status_code == 303
    product = _product()
    assert [(i.id, i.is_main) for i in product.images] == [(first.id, True)]  # the one left is main
    gone = db.session.scalar(select(func.count()).select_from(ImageBlob).where(ImageBlob.key.startswith(second_digest)))
    assert gone == 0


def test_add_a_photo_to_a_demo_product(admin):
    product = _product("cafe-rwanda")
    before = [i.id for i in product.images]
    data = _form(name=product.name, slug=product.slug, stock=str(product.stock), stock_seen=str(product.stock),
                 main_image=str(before[0]))
    response = _post(admin, f"/admin/products/{product.id}", data, [("images", ("c.webp", photo(900, 700, "WEBP"), "image/webp"))])
    assert response.status_code == 303
    product = _product("cafe-rwanda")
    assert len(product.images) == 2 and product.main_image.id == before[0]


def test_scripts_and_disguised_files_are_refused(admin):
    for name, content in (("evil.svg", SVG), ("fake.png", b"GIF89a not a png"), ("page.jpg", b"<html>x</html>")):
        response = _post(admin, "/admin/products/new", _form(), [("images", (name, content, "image/png"))])
        assert response.status_code == 400
        assert "The image must be a PNG, JPEG or WebP file." in text_of(response)
        assert _product() is None


def test_too_large_photo_is_refused(admin, app):
    app.config["PRODUCT_IMAGE_MAX_BYTES"] = 1024
    response = _post(admin, "/admin/products/new", _form(), [("images", ("big.jpg", photo(600, 400), "image/jpeg"))])
    assert response.status_code == 400 and "The image is larger than 1 KB." in text_of(response)


def test_main_photo_of_another_product_is_refused(admin):
    product = _product("cafe-rwanda")
    other = _product("savon-noir").main_image.id
    data = _form(name=product.name, slug=product.slug, stock=str(product.stock), stock_seen=str(product.stock),
                 main_image=str(other))
    response = _post(admin, f"/admin/products/{product.id}", data, [])
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)


def test_a_name_in_either_language_is_enough_but_one_is_needed(admin):
    response = _post(admin, "/admin/products/new", _form(name="", name_en=""), [])
    assert response.status_code == 400 and "Give the product a name, in French or in English." in text_of(response)
    response = _post(admin, "/admin/products/new", _form(name="", name_en="Raffia bag"), [])
    assert response.status_code == 303
    product = _product("raffia-bag")
    assert product.name == "" and product.name_in("fr") == "Raffia bag"
    assert re.search(r">\s*Raffia bag\s*<", admin.get("/admin/products").text)
