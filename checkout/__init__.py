"""Checkout (``complete``): turn a priced cart and a customer into one order and one payment
attempt, once, whatever the number of submits. It may import ``payments``, ``orders`` and the
rooms below them.
"""
