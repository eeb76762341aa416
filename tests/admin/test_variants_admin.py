"""The merchant's side of variants (issue 26): the variants page (options, rows, all or nothing),
a variant in orders kept, and the dashboard's low-stock list."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Product
from tests.admin.conftest import text_of as admin_text
from tests.shop.test_variants import add, shirt, size


def test_the_dashboard_lists_what_is_low(admin, ctx):
    overview = admin_text(admin.get("/admin/"))
    assert "low on stock" in overview and "Chemise kitenge (XXL)" in overview and "Chemise kitenge (S)" in overview
    products = admin_text(admin.get("/admin/products?low=1"))
    assert "Chemise kitenge" in products and "Savon noir" not in products


def _variants_form(product: Product, names: list[str], rows: list[dict]) -> dict:
    data = {f"option_{i}": (names + ["", "", ""])[i] for i in range(3)}
    data["rows"] = str(len(rows))
    for n, row in enumerate(rows):
        data.update({f"v-{n}-{key}": value for key, value in row.items()})
    return data


def test_the_merchant_turns_a_product_into_variants(admin, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    default = product.variants[0]
    path = f"/admin/products/{product.id}/variants"
    assert admin.get(path).status_code == 200
    data = _variants_form(product, ["Format"], [
        {"id": default.id, "option1": "200 g", "stock": "8", "stock_seen": str(default.stock), "sku": "SAV-200"},
        {"option1": "500 g", "stock": "4", "sku": "SAV-500", "price_XOF": "5000"},
    ])
    response = admin.post(path, data, csrf_from=path)
    assert response.status_code == 303, admin_text(response)[:400]
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert [(o.name, o.name_en) for o in product.options] == [("Format", None)]
    assert [(v.label, v.stock, v.sku) for v in product.variants] == [("200 g", 8, "SAV-200"), ("500 g", 4, "SAV-500")]
    assert product.stock == 12 and product.variants[1].selling_price("XOF") == 5000
    assert product.variants[0].selling_price("XOF") == product.selling_price("XOF")


def test_the_merchant_names_an_option_in_english_too(admin, shopper, ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "kitenge-chemise"))
    path = f"/admin/products/{product.id}/variants"
    assert 'value="Size"' in admin.get(path).text  # the demo's English name, shown to edit
    rows = [{"id": v.id, "option1": v.option1, "stock": str(v.stock), "stock_seen": str(v.stock), "sku": v.sku}
            for v in product.variants]
    data = {**_variants_form(product, ["Taille", "Coupe"], [{**r, "option2": "Droite"} for r in rows]),
            "option_en_0": "  Size ", "option_en_1": "Fit"}
    response = admin.post(path, data, csrf_from=path)
    assert response.status_code == 303, admin_text(response)[:400]
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert [(o.name, o.name_en) for o in product.options] == [("Taille", "Size"), ("Coupe", "Fit")]
    assert "Size · Fit" in shopper.get("/products/kitenge-chemise").text
    data.update(option_en_1="")  # cleared: the French name for everyone
    assert admin.post(path, data, csrf_from=path).status_code == 303
    db.session.expire_all()
    assert [o.name_en for o in db.session.get(Product, product.id).options] == ["Size", None]


@pytest.mark.parametrize(("change", "reason"), [
    ({"v-1-option1": "s"}, "Two variants are"),              # the same combination as S, any case
    ({"v-1-option1": ""}, "Give this variant a value"),
    ({"v-1-sku": "KIT-S"}, "Two variants have the SKU"),
    ({"v-1-stock": "-3"}, "whole number"),
    ({"v-1-price_XOF": "12,345"}, "decimal"),
    ({"option_0": ""}, "need at least one option"),
])
def test_a_bad_variants_form_says_why_and_changes_nothing(admin, ctx, change, reason):
    product = shirt()
    before = [(v.label, v.stock, v.sku) for v in product.variants]
    rows = [{"id": v.id, "option1": v.option1, "stock": str(v.stock), "stock_seen": str(v.stock), "sku": v.sku or ""}
            for v in product.variants]
    data = {**_variants_form(product, ["Taille"], rows), **change}
    path = f"/admin/products/{product.id}/variants"
    response = admin.post(path, data, csrf_from=path)
    assert response.status_code == 400 and reason in admin_text(response)
    assert [(v.label, v.stock, v.sku) for v in shirt().variants] == before


def test_a_variant_in_orders_is_kept(admin, shopper, ctx):
    add(shopper, size("M"))
    shopper.checkout()
    product = shirt()
    rows = [{"id": v.id, "option1": v.option1, "stock": str(v.stock), "stock_seen": str(v.stock),
             **({"delete": "1"} if v.option1 == "M" else {})} for v in product.variants]
    path = f"/admin/products/{product.id}/variants"
    response = admin.post(path, _variants_form(product, ["Taille"], rows), csrf_from=path)
    assert response.status_code == 400 and "is in orders" in admin_text(response)
    assert len(shirt().variants) == 5


def test_the_orders_csv_and_the_packing_slip_name_the_variant(admin, shopper, ctx):
    import csv
    import io

    from tests.helpers import only_order
    add(shopper, size("M"), 2)
    shopper.add_to_cart("savon-noir")
    shopper.checkout()
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/orders.csv").text)))
    assert rows[0]["items"] == "2 × Chemise kitenge (M); 1 × Savon noir traditionnel"
    order = only_order()
    slip = admin_text(admin.get(f"/admin/orders/{order.reference}/slip"))
    assert "Chemise kitenge (M)" in slip


def test_a_payment_link_sells_a_variant_and_previews_it(admin, shopper, base_url, ctx):
    import re

    from models import PaymentLink
    from tests.links.test_payment_links import link_form
    medium = size("M")
    form = admin.get("/admin/links/new").text
    assert f'value="v{medium.id}"' in form and "Chemise kitenge — M" in form
    shirt_product = shirt()
    assert f'value="{shirt_product.id}"' not in form  # a product with options is offered per variant only
    data = link_form(products=[("savon-noir", 1)])
    data["products-1-product_id"], data["products-1-quantity"] = f"v{medium.id}", "2"
    response = admin.post("/admin/links/new", data, csrf_from="/admin/links/new")
    assert response.status_code == 303, admin_text(response)[:500]
    link = db.session.scalar(select(PaymentLink))
    line = next(line for line in link.order.lines if line.variant_id == medium.id)
    assert (line.full_name, line.quantity, line.unit_price) == ("Chemise kitenge (M)", 2, 12000)
    assert size("M").stock == 3
    page = shopper.get(f"/p/{link.code}").text
    assert "Chemise kitenge (M)" in page
    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', page))
    assert meta["og:url"] == f"{base_url}/p/{link.code}" and meta["product:price:currency"] == "XOF"
    assert meta["og:image"].startswith(base_url + "/media/")
