"""What the shop sells and what a customer collects: the catalogue as the storefront reads it,
cached per catalogue version (``catalog``), the cart in the session, always re-priced from the
database (``cart``), stock reserved and given back atomically (``stock``), the merchant's edits of
products, prices and photos (``products``) and the demo catalogue (``demo``, ``demo_pictures``).
It may import ``media``, ``models``, ``core``, ``config``, ``extensions`` and ``providers.base``;
never orders, payments or anything above them.
"""
