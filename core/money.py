"""Displaying money. Amounts are integers in minor units; Babel formats them."""
from __future__ import annotations

from babel.numbers import format_currency

from providers.base import to_major

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
