"""Customer phone numbers: validated per market and stored as E.164 (``+22670123456``).

The CFA franc markets span several countries: the XOF market (UEMOA) takes the numbers of
its eight countries and the XAF market (CEMAC) those of its six, each with its country code;
a number typed without one is read as Burkinabè (XOF) or Cameroonian (XAF). As in the other
markets, a number of any other country is taken too when it comes with its code (a customer
may pay from abroad). Errors show the market's own number and another union country's.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import phonenumbers
from babel import Locale
from flask_babel import gettext as _

#: The country a number without ``+`` is read in, per market; USD (international): none, ``+`` required.
MARKET_REGIONS: dict[str, str | None] = {"XOF": "BF", "XAF": "CM", "RWF": "RW", "NGN": "NG", "USD": None}
#: The monetary union's countries of a market (the error messages name them).
MARKET_COUNTRIES: dict[str, tuple[str, ...]] = {
    "XOF": ("BJ", "BF", "CI", "GW", "ML", "NE", "SN", "TG"),  # UEMOA
    "XAF": ("CM", "CF", "CG", "GA", "GQ", "TD"),              # CEMAC
}
#: A number of another country of the union, as its people write it, for error messages.
ZONE_EXAMPLES = {"XOF": "+221 77 123 45 67", "XAF": "+241 06 03 12 34"}
#: What a phone field may hold before parsing: digits, a leading +, spaces, dots, dashes, brackets.
ALLOWED = re.compile(r"^\+?[0-9 .()\-]{6,24}$")


class PhoneError(ValueError):
    """The number cannot be used; the message is for the customer."""


def region_for(currency: str) -> str | None:
    """The region a local number is read in for the market of ``currency``."""
    return MARKET_REGIONS.get(currency)


def example(currency: str) -> str:
    """A mobile number of the market as its people write it, for the field's placeholder."""
    region = region_for(currency) or "US"
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:  # a region without an example: no placeholder rather than a crash
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def expected(currency: str) -> str:
    """The example error messages give: the market's own, plus another union country's."""
    other = ZONE_EXAMPLES.get(currency)
    return _("%(local)s or %(other)s", local=example(currency), other=other) if other else example(currency)


def countries(currency: str, language: str = "en") -> str:
    """The names of the countries the market takes numbers from, in ``language``."""
    from core.search import fold  # alphabetical order ignoring accents: Bénin before Burkina

    names = Locale.parse(language).territories
    return ", ".join(sorted((names.get(code, code) for code in MARKET_COUNTRIES.get(currency, ())), key=fold))


def normalise(raw: str, currency: str) -> str:
    """``"70 12 34 56"`` in the XOF market → ``"+22670123456"``; raises PhoneError with the reason."""
    text = (raw or "").strip()
    if not ALLOWED.match(text):
        raise PhoneError(_("Digits only, with the country code, e.g. %(example)s.", example=expected(currency)))
    region = region_for(currency)
    if region is None and not text.startswith("+"):
        raise PhoneError(_("Start with + and the country code, e.g. %(example)s.", example=expected(currency)))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(_("This is not a phone number we can call, e.g. %(example)s.",
                           example=expected(currency))) from None
    if not phonenumbers.is_valid_number(number):
        if currency in MARKET_COUNTRIES:
            from core.i18n import current_language

            raise PhoneError(_("This phone number does not exist. Numbers from %(countries)s are "
                               "written with their country code, e.g. %(example)s.",
                               countries=countries(currency, current_language()), example=expected(currency)))
        raise PhoneError(_("This phone number does not exist: check its digits and the country code, "
                           "e.g. %(example)s.", example=expected(currency)))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """``+22670123456`` → ``+226 70 12 34 56``; anything unreadable is shown as stored."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def digits(phone: str | None) -> str:
    """A stored number's digits only (``"+226 70 12 34 56"`` → ``"22670123456"``)."""
    return "".join(ch for ch in phone or "" if ch.isascii() and ch.isdigit())


def tel_url(phone: str | None) -> str:
    """``tel:+22670123456``: tapping it on a phone dials the customer."""
    return f"tel:+{digits(phone)}" if digits(phone) else ""


def whatsapp_url(phone: str | None, text: str = "") -> str:
    """``https://wa.me/22670123456`` (WhatsApp wants the digits, no ``+``), the message prefilled
    when given; without a number WhatsApp asks whom to send it to."""
    query = f"?text={quote(text, safe='')}" if text else ""
    return f"https://wa.me/{digits(phone)}{query}"
