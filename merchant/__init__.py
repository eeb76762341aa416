"""The merchant's side of the shop: dashboard accounts and signed-in sessions (``accounts``),
actions on orders, each logged with its author (``actions``), and the dashboard's read-only
figures, lists and CSV, in a fixed number of queries (``reports``). It may import ``payments``,
``orders`` and every room below; never ``links`` or the blueprints.
"""
