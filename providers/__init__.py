"""Payment providers: an explicit registry keyed by gateway name."""
from __future__ import annotations

from .base import PaymentProvider
from .ligdicash import LigdiCash
from .payunit import PayUnit

REGISTRY: dict[str, type[PaymentProvider]] = {
    LigdiCash.name: LigdiCash,
    PayUnit.name: PayUnit,
}
