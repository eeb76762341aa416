"""Per-gateway bulkheads: at most N calls in flight to one gateway, per process.

A gateway that answers slowly (or not at all) would otherwise hold every server
thread, one checkout at a time, until browsing and the other gateways' callbacks
wait behind it. With a bulkhead, a request that finds the gateway's slots all taken
is answered at once ("busy, try again in a moment") instead of queueing. Creating
payments and asking their status use separate slots, so a slow ``create`` does not
stop callbacks from being confirmed. See docs/performance.md.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_slots: dict[tuple[str, str, int], threading.BoundedSemaphore] = {}


class GatewayBusy(Exception):
    """Every slot for this gateway is taken: answer now, do not queue."""


def _semaphore(gateway: str, kind: str, limit: int) -> threading.BoundedSemaphore:
    key = (gateway, kind, limit)
    semaphore = _slots.get(key)
    if semaphore is None:
        with _lock:
            semaphore = _slots.setdefault(key, threading.BoundedSemaphore(limit))
    return semaphore


@contextmanager
def gateway_slot(gateway: str, kind: str, limit: int) -> Iterator[None]:
    """Hold one of ``limit`` slots for ``kind`` calls to ``gateway``; raise GatewayBusy
    when none is free. ``limit`` 0 or less means no limit."""
    if limit <= 0:
        yield
        return
    semaphore = _semaphore(gateway, kind, limit)
    if not semaphore.acquire(blocking=False):
        raise GatewayBusy(f"{gateway}: {limit} {kind} call(s) already in flight")
    try:
        yield
    finally:
        semaphore.release()


def in_flight(gateway: str, kind: str, limit: int) -> int:
    """How many slots are taken now (for tests and the benchmark)."""
    if limit <= 0:
        return 0
    return limit - _semaphore(gateway, kind, limit)._value  # noqa: SLF001  (read only)
