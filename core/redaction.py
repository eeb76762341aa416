"""Keeping secrets out of logs: every log record is scrubbed as it is made.

Known secret values (SECRET_KEY, every gateway credential in use) and
credential-looking fragments (``Authorization: Bearer …``, ``secretKey=…``)
are replaced by ``***`` whatever logger, handler or format later sees them.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|API_KEY|API_USER|APIKEY)", re.I)
CREDENTIAL_FRAGMENT = re.compile(
    r"(?i)\b(apikey|x-api-key|irembopay-secretkey|api[_-]?key|api[_-]?secret|"
    r"secret[_-]?key|password|token)([\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"',;&]+"
)
AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}")
MIN_SECRET_LENGTH = 6

_secrets: set[str] = set()
_installed = False


def scrub(text: str) -> str:
    """``text`` with known secret values and credential fragments masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in (AUTH_SCHEME, CREDENTIAL_FRAGMENT):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return text


def remember_secrets(values) -> None:
    """Add values that must never appear in a log line."""
    _secrets.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)


def install(config, credentials: Iterable[str | None] = ()) -> None:
    """Scrub every future log record, with the secrets found in ``config`` and the given
    ``credentials`` (the gateways' in use: ``payments.gateways.credentials_in_use``)."""
    remember_secrets(v for k, v in config.items() if SECRET_NAME.search(k))
    # The photo bucket's credentials are boto3's (environment), never in the app's config.
    remember_secrets(os.environ.get(k) for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))
    remember_secrets(credentials)
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave it to logging
            return record
        record.msg, record.args = scrub(message), ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
