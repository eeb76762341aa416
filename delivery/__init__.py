"""How goods reach the customer, before payment: the merchant's home-delivery zones and pickup
points per market, the options checkout offers and the fee of a choice, re-checked against the
database (``options``). It may import ``models``, ``core`` and ``extensions``. What happens after
payment (the "To fulfil" queue and the fulfilment moves) is an order's state: ``orders.fulfilment``.
"""
