"""The shop's small shared helpers, with no state of their own: money shown the Babel way
(``money``), customers' phone numbers in E.164 (``phones``), the customer's language and local dates
(``i18n``), absolute URLs on the public base URL (``urls``), our unguessable references
(``references``), safe ``next`` redirects (``redirects``), accent-blind search folding (``search``),
the CFA francs at par (``pricing``), fingerprinted static files (``assets``) and secrets kept out
of the logs (``redaction``). It may import libraries and ``providers.base`` (the currencies'
exponents) only: no table, no database session, no other room.
"""
