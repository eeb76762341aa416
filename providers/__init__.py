"""Payment providers: an explicit registry keyed by gateway name."""
from __future__ import annotations

from .base import PaymentProvider
from .ligdicash import LigdiCash

REGISTRY: dict[str, type[PaymentProvider]] = {
    LigdiCash.name: LigdiCash,
}
