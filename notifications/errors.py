"""What a provider says when a text did not go."""
from __future__ import annotations


class SmsError(Exception):
    """Not sent this time (provider down, refused for now): tried again later."""


class SmsRejected(SmsError):
    """This text will never go (an invalid or blacklisted number): not tried again."""
