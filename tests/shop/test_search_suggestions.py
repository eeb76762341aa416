"""A search that finds nothing offers the closest names and the categories (issue 32). Real HTTP."""
from __future__ import annotations

import re

from sqlalchemy import select

from extensions import db
from models import Product
from tests.helpers import text_of


def suggested(page: str) -> list[str]:
    block = re.search(r'<div class="suggestions" id="suggestions">(.*?)</div>', page, re.S)
    return re.findall(r'<a href="[^"]+">([^<]+)</a>', block.group(1)) if block else []


def test_a_misspelt_search_suggests_the_closest_products_and_the_categories(shopper):
    response = shopper.get("/?q=cofee")  # no product matches "cofee"
    assert "No product matches" in text_of(response)
    page = response.text
    names = suggested(page)
    assert any("Café" in n for n in names), names
    assert "Fine foods" in names and "See every product" in names  # the categories (English), and all


def test_an_english_word_finds_the_english_name_and_suggests_in_the_language(shopper):
    product = db.session.scalar(select(Product).where(Product.slug == "cafe-rwanda"))
    product.name_en = "Rwandan coffee"
    db.session.commit()
    page = shopper.get("/?q=cofffee").text
    assert "Rwandan coffee" in suggested(page)


def test_nothing_close_still_offers_the_categories(shopper):
    names = suggested(shopper.get("/?q=zzzzqqq").text)
    assert "See every product" in names and len(names) >= 2
    assert not any("Café" in n for n in names)


def test_a_search_that_finds_something_suggests_nothing(shopper):
    assert 'id="suggestions"' not in shopper.get("/?q=pagne").text
