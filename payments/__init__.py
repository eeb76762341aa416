"""Payment attempts at the five gateways: which gateways are on and building their providers
(``gateways``), starting an attempt and applying a gateway's verified word (``attempts``), how
often a gateway may be asked (``pacing``), at most N calls in flight per gateway (``bulkhead``),
what a person must look at (``attention``) and reconciliation, the worker's pass that finds what
callbacks missed and expires what was never paid (``reconcile``). It may import ``providers``,
``orders`` and every room below it; statuses change only through ``orders.states``.
"""
