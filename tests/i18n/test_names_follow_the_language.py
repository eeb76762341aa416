"""Every name a customer reads follows the language, falling back to the other one (issue 32):
category list, product grid, cart and checkout summary. Real HTTP."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import Category, Product
from tests.helpers import text_of


def test_category_and_product_names_follow_the_language_everywhere(shopper):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    product.name_en = "African black soap"
    db.session.commit()
    shopper.post("/language", {"language": "en"})
    shopper.add_to_cart("savon-noir", 1)
    home, cart, checkout = (text_of(shopper.get(path)) for path in ("/", "/cart", "/checkout"))
    assert "Beauty & wellbeing" in home and "Beauté & bien-être" not in home
    for page in (home, cart, checkout):
        assert "African black soap" in page
    assert product.name not in checkout  # the summary used to show the French name
    shopper.post("/language", {"language": "fr"})
    french = text_of(shopper.get("/checkout"))
    assert product.name in french and "Beauté & bien-être" in text_of(shopper.get("/"))


def test_a_name_given_in_one_language_only_is_shown_in_both(shopper):
    category = db.session.scalar(select(Category).where(Category.slug == "epicerie"))
    category.name_en = ""
    db.session.commit()
    shopper.post("/language", {"language": "en"})
    assert "Épicerie fine" in text_of(shopper.get("/"))
