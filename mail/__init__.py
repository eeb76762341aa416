"""E-mail through an outbox (``outbox``): each e-mail is written in the same transaction as the
change it announces, then claimed and sent exactly once, to the customer in their language or to
the merchant (paid orders, the daily summary). It may import ``models``, ``core``, ``config`` and
``extensions``; it decides nothing about orders, it only writes and sends what it is told.
"""
