"""Displaying money. Amounts are integers in minor units; Babel formats them."""
from __future__ import annotations

from babel.numbers import format_currency

from providers.base import to_major

#: The locale each market's prices are shown in.
DISPLAY_LOCALES = {"XOF": "fr_SN", "XAF": "fr_CM", "RWF": "en_RW", "NGN": "en_NG", "USD": "en_US"}


def format_money(amount: int, currency: str, locale: str | None = None) -> str:
    """``5000, "XOF"`` → ``5 000 F CFA``; ``125000, "NGN"`` → ``₦1,250.00``."""
    return format_currency(
        to_major(amount, currency), currency, locale=locale or DISPLAY_LOCALES.get(currency, "en")
    )
