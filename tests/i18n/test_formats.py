"""Issue 10: money and dates as each market writes them, per language (Babel)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from core.i18n import format_when
from core.money import format_money
from tests.helpers import only_order, text_of


def plain(text: str) -> str:
    """Babel's narrow and ordinary no-break spaces read as spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize("language,amount,currency,expected", [
    ("fr", 500000 // 100, "XOF", "5 000 F CFA"),
    ("fr", 5000, "XAF", "5 000 FCFA"),
    ("fr", 9000, "RWF", "9 000 RF"),
    ("fr", 125000, "NGN", "1 250,00 NGN"),
    ("fr", 1250, "USD", "12,50 $US"),
    ("en", 125000, "NGN", "₦1,250.00"),
    ("en", 1250, "USD", "$12.50"),
    ("en", 9000, "RWF", "RF9,000"),
    ("en", 5000, "XOF", "5 000 F CFA"),  # the CFA franc keeps its local form in English
    ("en", 5000, "XAF", "5 000 FCFA"),
])
def test_money_per_language_and_currency(app, ctx, language, amount, currency, expected):
    with force_locale(language):
        assert plain(format_money(amount, currency)) == expected
    assert plain(format_money(amount, currency, language)) == expected


def test_money_on_pages_follows_the_language(shopper):
    assert "15 000 F CFA" in plain(text_of(shopper.get("/products/pagne-wax-6-yards")))
    shopper.set_market("NGN")
    assert "₦35,000.00" in text_of(shopper.get("/products/pagne-wax-6-yards"))
    shopper.post("/language", {"language": "fr"})
    assert "35 000,00 NGN" in plain(text_of(shopper.get("/products/pagne-wax-6-yards")))
    shopper.set_market("RWF")
    page = plain(text_of(shopper.get("/")))
    assert " RF" in page and "RWF" in page  # 9 000 RF in prices, the market's code in the selector


MOMENT = datetime(2026, 5, 9, 17, 20, tzinfo=UTC)


@pytest.mark.parametrize("language,currency,expected", [
    ("fr", "XOF", "9 mai 2026, 17:20"),       # Ouagadougou: UTC
    ("fr", "XAF", "9 mai 2026, 18:20"),       # Douala: UTC+1
    ("fr", "RWF", "9 mai 2026, 19:20"),       # Kigali: UTC+2
    ("en", "NGN", "9 May 2026, 18:20"),       # Lagos: UTC+1
    ("en", "RWF", "9 May 2026, 19:20"),
    ("en", "USD", "May 9, 2026, 5:20 PM UTC"),
    ("fr", "USD", "9 mai 2026, 17:20 TU"),
])
def test_dates_per_language_and_market(app, ctx, language, currency, expected):
    assert plain(format_when(MOMENT, currency, language)) == expected
    with force_locale(language):
        assert plain(format_when(MOMENT, currency)) == expected


def test_naive_datetimes_are_read_as_utc(app, ctx):
    assert format_when(MOMENT.replace(tzinfo=None), "XAF", "fr") == format_when(MOMENT, "XAF", "fr")
    assert format_when(None, "XOF", "fr") == ""


def test_dates_on_my_orders_and_the_order_page(french, ctx):
    french.buy("savon-noir")
    order = only_order()
    expected = plain(format_when(order.created_at, "XOF", "fr"))
    assert any(month in expected for month in ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.",
                                                "août", "sept.", "oct.", "nov.", "déc."))
    assert expected in plain(text_of(french.get("/orders")))
    assert f"Passée le {expected}." in plain(text_of(french.get(f"/orders/{order.token}")))
