"""Everything that happens to an order, and the one owner of every status change (``states``:
the statuses of orders, payments, fulfilment and payment links, their transition tables, the one
``transition`` primitive with its event and effects). ``lifecycle`` places orders (re-priced,
stock reserved), finds, expires and cancels them; ``fulfilment`` moves a paid order's goods
forward and writes the merchant's daily summary. It may import ``delivery``, ``mail``, ``shop``,
``media``, ``models``, ``core`` and ``extensions``; never payments or anything above.
"""
