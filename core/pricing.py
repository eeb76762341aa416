"""What a product costs in a market's currency.

The CFA francs are at par: XOF (UEMOA) and XAF (CEMAC) are both pegged to the euro at
655.957, so 1 XOF = 1 XAF. A product priced only in XOF is sold in XAF at the same
amount, and the other way round, unless the merchant set a price in that currency.
"""
from __future__ import annotations

#: Currencies worth the same: a price in one is a price in the other.
AT_PAR = {"XOF": "XAF", "XAF": "XOF"}


def currencies_for(currency: str) -> tuple[str, ...]:
    """Currencies whose price can sell in ``currency``: its own first, then its par twin."""
    twin = AT_PAR.get(currency)
    return (currency, twin) if twin else (currency,)


def selling_price(product, currency: str) -> int | None:
    """The amount (minor units) a customer pays for ``product`` in ``currency``, or None
    when it is not sold there. A price set in ``currency`` wins over the par twin's."""
    for candidate in currencies_for(currency):
        price = product.price_in(candidate)
        if price is not None:
            return price.amount
    return None
