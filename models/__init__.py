"""The database tables (SQLAlchemy 2.0, typed), one module per domain, all importable from here.

Money is always an integer in minor units plus a currency. The schema itself is built by the
Alembic migrations in ``migrations/``; a test checks that these models and the migrations agree.
``models`` may import only ``core`` (pricing, language, search folding) and ``extensions``:
the domain packages use the tables, never the other way round.
"""
from __future__ import annotations

from models.base import UTCDateTime, sql_list, utcnow
from models.catalog import CatalogVersion, Category, Price, Product, ProductOption, Variant, VariantPrice
from models.delivery import DeliveryZone, PickupPoint
from models.imports import CatalogueImport
from models.links import LINK_STATUSES, PaymentLink
from models.mail import OutboxEmail
from models.media import ImageBlob, ImageUpload, ImageView, ProductImage
from models.merchant import AdminSession, AdminUser
from models.notifications import OutboxSms
from models.orders import (
    DELIVERY_METHODS,
    FULFILMENT_STATUSES,
    ORDER_STATUSES,
    REFUND_METHODS,
    Order,
    OrderLine,
    Refund,
)
from models.payments import ATTENTION_KINDS, PAYMENT_STATUSES, Payment, PaymentEvent
from models.promos import PROMO_KINDS, PromoCode, PromoMarket, PromoRedemption
from models.settings import Identity, ShopSettings, shop_identity

__all__ = [
    "ATTENTION_KINDS", "DELIVERY_METHODS", "FULFILMENT_STATUSES", "LINK_STATUSES", "ORDER_STATUSES",
    "PAYMENT_STATUSES", "PROMO_KINDS", "REFUND_METHODS", "AdminSession", "AdminUser", "CatalogVersion",
    "CatalogueImport", "Category", "DeliveryZone", "Identity", "ImageBlob", "ImageUpload", "ImageView", "Order",
    "OrderLine", "OutboxEmail", "OutboxSms", "Payment", "PaymentEvent", "PaymentLink", "PickupPoint",
    "Price", "Product", "ProductImage", "ProductOption", "PromoCode", "PromoMarket", "PromoRedemption",
    "Refund", "ShopSettings", "UTCDateTime", "Variant", "VariantPrice", "shop_identity", "sql_list",
    "utcnow",
]
