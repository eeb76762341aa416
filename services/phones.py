"""Customer phone numbers: validated per market and stored as E.164 (``+22670123456``)."""
from __future__ import annotations

import re

import phonenumbers
from flask_babel import gettext as _

#: The country a number without ``+`` is read in, per market; USD (international): none, ``+`` required.
MARKET_REGIONS: dict[str, str | None] = {"XOF": "BF", "XAF": "CM", "RWF": "RW", "NGN": "NG", "USD": None}
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
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise(raw: str, currency: str) -> str:
    """``"70 12 34 56"`` in the XOF market → ``"+22670123456"``; raises PhoneError with the reason."""
    text = (raw or "").strip()
    if not ALLOWED.match(text):
        raise PhoneError(_("Digits only, with the country code, e.g. %(example)s.", example=example(currency)))
    region = region_for(currency)
    if region is None and not text.startswith("+"):
        raise PhoneError(_("Start with + and the country code, e.g. %(example)s.", example=example(currency)))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(_("This is not a phone number we can call, e.g. %(example)s.",
                           example=example(currency))) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_("This phone number does not exist: check its digits and the country code, "
                           "e.g. %(example)s.", example=example(currency)))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """``+22670123456`` → ``+226 70 12 34 56``; anything unreadable is shown as stored."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
