"""The development provider: the text goes to the log, not to a phone (SMS_PROVIDER=log)."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def send(to: str, message: str) -> str:
    log.info("SMS (SMS_PROVIDER=log, not sent) to %s: %s", to, message)
    return "log"
