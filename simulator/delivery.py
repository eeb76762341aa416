"""Sending a simulated gateway's callbacks to the shop, over real HTTP."""
from __future__ import annotations

import logging
import threading
import time

import requests

from .state import SimInvoice

log = logging.getLogger(__name__)
TIMEOUT = 10


def _attempt(invoice: SimInvoice, url: str, kwargs: dict) -> bool:
    """POST one callback; record the outcome; True when the shop answered 2xx.

    ``kwargs`` go to ``requests.post``, except an optional ``label`` naming the
    callback in ``invoice.deliveries`` (default: ``json`` or ``form``).
    """
    kwargs = dict(kwargs)
    label = kwargs.pop("label", None)
    name = label or ("json" if "json" in kwargs else "form")
    try:
        response = requests.post(url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        invoice.deliveries.append(f"{label + ' ' if label else ''}failed: {type(exc).__name__}")
        log.warning("simulator callback to %s failed: %s", url, exc)
        return False
    invoice.deliveries.append(f"{name} → {response.status_code}")
    return 200 <= response.status_code < 300


def _send(invoice: SimInvoice, url: str, sends: list[dict], retries: int = 0,
          interval: float = 0, first_url: str | None = None) -> None:
    failed = [kwargs for kwargs in sends if not _attempt(invoice, first_url or url, kwargs)]
    if failed and retries:
        threading.Thread(target=_retry, args=(invoice, url, failed, retries, interval),
                         daemon=True).start()


def _retry(invoice: SimInvoice, url: str, failed: list[dict], retries: int, interval: float) -> None:
    """Send again what was not answered 2xx, ``retries`` times, ``interval`` seconds apart."""
    for _ in range(retries):
        time.sleep(interval)
        failed = [kwargs for kwargs in failed if not _attempt(invoice, url, kwargs)]
        if not failed:
            return


def deliver(invoice: SimInvoice, url: str, sends: list[dict], delay: float = 0, *,
            retries: int = 0, interval: float = 0, first_url: str | None = None) -> None:
    """POST each callback to ``url``: now, or after ``delay`` seconds in a thread.

    A callback not answered 2xx is sent again up to ``retries`` times, ``interval``
    seconds apart (in a thread). ``first_url``, when given, receives the first
    attempt instead of ``url``: an outage of the shop's endpoint.
    """
    if not delay:
        _send(invoice, url, sends, retries, interval, first_url)
        return

    def later() -> None:
        time.sleep(delay)
        _send(invoice, url, sends, retries, interval, first_url)

    threading.Thread(target=later, daemon=True).start()
