"""Displaying money. Amounts are integers in minor units; Babel formats them."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency

from providers.base import EXPONENTS, to_major

AMOUNT_TEXT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,4})?")

#: The Babel locale per (language, currency) that writes the amount the way its market does:
#: ``5 000 F CFA``, ``5 000 FCFA``, ``9 000 RF``, ``₦1,250.00``, ``$12.50``. The CFA francs
#: keep their French form in English too (no English locale of the zones writes them
#: better: CLDR's English gives ``F CFA5,000``), and so do the shop's English pages.
DISPLAY_LOCALES = {
    ("fr", "XOF"): "fr_BF", ("fr", "XAF"): "fr_CM", ("fr", "RWF"): "fr_RW",
    ("fr", "NGN"): "fr", ("fr", "USD"): "fr",
    ("en", "XOF"): "fr_BF", ("en", "XAF"): "fr_CM", ("en", "RWF"): "en_RW",
    ("en", "NGN"): "en_NG", ("en", "USD"): "en_US",
}


def display_locale(currency: str, language: str) -> str:
    """The Babel locale that shows ``currency`` to a reader of ``language``."""
    return DISPLAY_LOCALES.get((language, currency), language)


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    """``5000, "XOF"`` → ``5 000 F CFA``; ``125000, "NGN"`` → ``₦1,250.00`` (in the current
    language; ``locale`` is a language, ``fr``/``en``, or a Babel locale such as ``en_NG``)."""
    from core.i18n import (
        current_language,  # flask only at call time: CLI and tests import this
    )

    language = locale or current_language()
    babel_locale = display_locale(currency, language) if language in ("fr", "en") else language
    return format_currency(to_major(amount, currency), currency, locale=babel_locale)


def parse_major(text: str, currency: str) -> int:
    """``"12.50", "USD"`` → 1250, exactly (Decimal, never a float); ValueError with the reason
    (not a number, zero or less, more decimals than the currency has)."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not AMOUNT_TEXT.fullmatch(cleaned):
        raise ValueError(f"Write an amount in {currency}, such as 1500 or 12.50.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"Write an amount in {currency}, such as 1500 or 12.50.") from None
    if value <= 0:
        raise ValueError("The amount must be above zero.")
    minor = value.scaleb(EXPONENTS.get(currency, 2))
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {EXPONENTS.get(currency, 2)} decimal place(s).")
    return int(minor)
