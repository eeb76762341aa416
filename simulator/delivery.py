"""Sending a simulated gateway's callbacks to the shop, over real HTTP."""
from __future__ import annotations

import logging
import threading
import time

import requests

from .state import SimInvoice

log = logging.getLogger(__name__)
TIMEOUT = 10


def _send(invoice: SimInvoice, url: str, sends: list[dict]) -> None:
    for kwargs in sends:
        try:
            response = requests.post(url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
            invoice.deliveries.append(f"{'json' if 'json' in kwargs else 'form'} → {response.status_code}")
        except requests.RequestException as exc:
            invoice.deliveries.append(f"failed: {type(exc).__name__}")
            log.warning("simulator callback to %s failed: %s", url, exc)


def deliver(invoice: SimInvoice, url: str, sends: list[dict], delay: float = 0) -> None:
    """POST each callback to ``url``: now, or after ``delay`` seconds in a thread."""
    if not delay:
        _send(invoice, url, sends)
        return

    def later() -> None:
        time.sleep(delay)
        _send(invoice, url, sends)

    threading.Thread(target=later, daemon=True).start()
