"""Payment providers: one module per gateway that translates between the shop's value objects and
that gateway's HTTP API, and an explicit registry keyed by gateway name. Providers import only the
standard library and ``requests``: no Flask, no database, no room of the shop (import-linter)."""
from __future__ import annotations

from .base import PaymentProvider
from .fcfpay import FCFPay
from .irembopay import IremboPay
from .ligdicash import LigdiCash
from .paycashless import Paycashless
from .payunit import PayUnit

REGISTRY: dict[str, type[PaymentProvider]] = {
    LigdiCash.name: LigdiCash,
    IremboPay.name: IremboPay,
    PayUnit.name: PayUnit,
    FCFPay.name: FCFPay,
    Paycashless.name: Paycashless,
}
