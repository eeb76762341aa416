"""Payment links (``payment_links``): an order the merchant makes for a customer met in a
conversation, paid at ``/p/<code>`` through the same gateways; its status follows its order. It may
import ``payments``, ``orders``, ``delivery``, ``mail``, ``shop`` and the rooms below; never
``merchant``.
"""
