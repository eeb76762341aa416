"""Catalogue search ignores accents and case, in both languages' texts, on SQLite and
PostgreSQL, through the folded column the app keeps up to date."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from core.search import fold, words
from extensions import db
from models import Product
from shop import catalog
from tests.helpers import text_of


@pytest.mark.parametrize("raw,folded", [
    ("Beurre de karité brut", "beurre de karite brut"), ("KARITÉ", "karite"), ("Œuvre Ça", "oeuvre ca"),
    ("Théière", "theiere"), ("CAFÉ DU RWANDA", "cafe du rwanda"), ("l’ataya", "l'ataya"), ("", ""),
])
def test_fold(raw, folded):
    assert fold(raw) == folded


@pytest.mark.parametrize("query", ["karite", "KARITÉ", "karité", "Karite", "  kArItE  ", "beurre KARITE", "shea"])
def test_karite_is_found_however_it_is_typed(shopper, query):
    found = text_of(shopper.get("/", params={"q": query}))
    assert "Beurre de karité brut" in found, query
    assert "Café du Rwanda" not in found


@pytest.mark.parametrize("query,slug", [("theiere", "theiere-touareg"), ("CAFE", "cafe-rwanda"),
                                        ("cafe rwanda", "cafe-rwanda"), ("teapot", "theiere-touareg")])
def test_accents_ignored_in_names_and_english_descriptions(ctx, query, slug):
    assert slug in [p.slug for p in catalog.products("XOF", query=query).items]


def test_every_word_must_match(ctx):
    assert [p.slug for p in catalog.products("XOF", query="beurre brut").items] == ["beurre-de-karite"]
    assert catalog.products("XOF", query="beurre cafe").items == []


@pytest.mark.parametrize("query", ["%%", "_", "50%", "a_b", "\\", "%karite"])
def test_like_wildcards_are_searched_literally(ctx, query):
    """No product text holds these: a wildcard taken as such would match everything."""
    assert catalog.products("XOF", query=query).items == []


def test_a_literal_percent_sign_is_found_where_it_is_written(ctx):
    assert [p.slug for p in catalog.products("XOF", query="100%").items] == ["pagne-wax-6-yards"]


def test_empty_query_lists_everything(ctx):
    assert catalog.search_condition("   ") is None
    assert catalog.products("XOF", query="  ").total == 14


def test_search_text_follows_the_merchant_s_edits(ctx):
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    product.name_en = "Black SOAP from Ghana"
    db.session.commit()
    assert db.session.scalar(select(Product.search_text).where(Product.id == product.id)).startswith("savon noir")
    assert "black soap from ghana" in product.search_text
    assert [p.slug for p in catalog.products("XOF", query="ghana").items] == ["savon-noir"]


def test_query_words_are_capped(ctx):
    assert len(words(" ".join(["mot"] * 50))) == 8


@pytest.mark.postgres
def test_postgres_has_the_trigram_index(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    has_trgm = db.session.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"))
    index = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_product_search_text_trgm'"))
    assert (index is not None) == bool(has_trgm)
    if index:
        assert "gin_trgm_ops" in index
