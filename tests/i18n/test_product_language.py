"""Product names and descriptions in French and English: each customer reads their
language, or the other one when the merchant wrote only one."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Product
from tests.helpers import only_order, text_of


def _set(slug: str, **fields) -> None:
    product = db.session.scalar(select(Product).where(Product.slug == slug))
    for name, value in fields.items():
        setattr(product, name, value)
    db.session.commit()


def test_each_language_reads_its_own_name_and_description(shopper, ctx):
    _set("cafe-rwanda", name_en="Rwandan coffee")
    english = text_of(shopper.get("/products/cafe-rwanda"))
    assert "Rwandan coffee" in english and "Bourbon arabica from the hills of Huye" in english
    assert "Café du Rwanda" not in english
    assert "Rwandan coffee" in text_of(shopper.get("/"))
    shopper.post("/language", {"language": "fr"})
    french = text_of(shopper.get("/products/cafe-rwanda"))
    assert "Café du Rwanda" in french and "Arabica bourbon des collines de Huye" in french
    assert "Rwandan coffee" not in french


def test_falls_back_to_the_other_language(shopper, ctx):
    _set("savon-noir", name="", name_en="Black soap", description="", description_en="Made with shea.")
    shopper.post("/language", {"language": "fr"})
    page = text_of(shopper.get("/products/savon-noir"))
    assert "Black soap" in page and "Made with shea." in page
    _set("cafe-rwanda", name_en="", description_en="")
    shopper.post("/language", {"language": "en"})
    assert "Café du Rwanda" in text_of(shopper.get("/products/cafe-rwanda"))


def test_cart_and_order_line_in_the_customer_s_language(shopper, ctx):
    _set("cafe-rwanda", name_en="Rwandan coffee")
    shopper.add_to_cart("cafe-rwanda")
    assert "Rwandan coffee" in text_of(shopper.get("/cart"))
    assert shopper.checkout(language="en").status_code == 303
    assert only_order().lines[0].name == "Rwandan coffee"
