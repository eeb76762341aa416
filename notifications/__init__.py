"""Customer text messages (SMS) through an outbox (``sms``): each text is written in the same
transaction as the change it announces (order received, paid, shipped or ready for pickup,
delivered, refunded), in the customer's language, then claimed and sent once by the provider
SMS_PROVIDER names: ``africastalking`` (its HTTP API) or ``log`` (development); off unless set.
It may import ``models``, ``core``, ``config`` and ``extensions``; like ``mail``, it decides
nothing about orders, it only writes and sends what it is told.
"""
