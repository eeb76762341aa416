"""Our references: random, unguessable and readable (``CMD-7KQ2M9XW4T``, ``PAY-…``)."""
from __future__ import annotations

import secrets

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str, length: int = 10) -> str:
    """A random, unguessable, readable reference such as ``CMD-7KQ2M9XW4T``."""
    return prefix + "-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(length))
