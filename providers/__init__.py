"""Payment providers: an explicit registry keyed by gateway name."""
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
