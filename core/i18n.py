"""The customer's language, and dates shown the way each market writes them.

The language is the customer's choice (the header's switcher, kept in the
session), else the browser's ``Accept-Language``, else the shop's
``DEFAULT_LOCALE``. Flask-Babel asks :func:`select_locale` once per request.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from flask import current_app, has_app_context, has_request_context, request, session
from flask_babel import get_locale

#: Languages the shop is written in, as the switcher names them (each in its own language).
LANGUAGES = {"fr": "Français", "en": "English"}
#: Where each market's customers are, so that times read as their clocks do.
MARKET_TIMEZONES = {"XOF": "Africa/Ouagadougou", "XAF": "Africa/Douala", "RWF": "Africa/Kigali",
                    "NGN": "Africa/Lagos", "USD": "UTC"}
#: The Babel locale for dates, per language and market (day-month-year everywhere but the USA).
DATE_LOCALES = {("fr", "XOF"): "fr_BF", ("fr", "XAF"): "fr_CM", ("fr", "RWF"): "fr_RW",
                ("en", "NGN"): "en_NG", ("en", "RWF"): "en_RW", ("en", "USD"): "en_US",
                ("en", "XOF"): "en_GB", ("en", "XAF"): "en_CM"}


def default_language() -> str:
    """The shop's language when nothing else decides (``DEFAULT_LOCALE``)."""
    language = current_app.config.get("DEFAULT_LOCALE", "fr")
    return language if language in LANGUAGES else "fr"


def select_locale() -> str:
    """Flask-Babel's locale selector: session choice, then Accept-Language, then the default."""
    if not has_request_context():
        return default_language()
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or default_language()


def current_language() -> str:
    """``fr`` or ``en``: the language this request (or ``force_locale`` block) is rendered in."""
    if not has_app_context():
        return "en"  # the source language, e.g. for a script with no app
    if "babel" not in current_app.extensions:
        return default_language()
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else default_language()


def format_when(value: datetime | None, currency: str = "USD", language: str | None = None) -> str:
    """A moment on the market's clock: ``9 mai 2026, 17:20`` (XOF), ``9 May 2026, 18:20`` (NGN)."""
    if value is None:
        return ""
    language = language or current_language()
    locale = Locale.parse(DATE_LOCALES.get((language, currency), language))
    zone = ZoneInfo(MARKET_TIMEZONES.get(currency, "UTC"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored as UTC
    pattern = str(locale.datetime_formats["medium"]).format(
        locale.time_formats["short"].pattern, locale.date_formats["medium"].pattern)
    # Local markets read their own clock: no zone. International customers get "UTC" said.
    suffix = " z" if zone.key == "UTC" else ""
    return format_datetime(value, pattern + suffix, tzinfo=zone, locale=locale)
