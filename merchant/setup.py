"""The setup checklist: what a shop still needs before it can sell for real, and how to get it.

Shown on the dashboard's overview until every step is done. Each step is read from the
configuration and the database as they are now; nothing here changes anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from extensions import db
from models import Category, DeliveryZone, PickupPoint, Price, Product, shop_identity
from payments.gateways import gateway_settings
from providers import REGISTRY

#: The contact line the development configuration shows; a shop must give its own.
DEMO_CONTACT = "+226 25 30 00 00 · bonjour@comptoir.example"


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    how: str  # what to do when it is not done


def checklist() -> list[Step]:
    """Every step, done or not, in the order a new merchant takes them."""
    config = current_app.config
    contact = shop_identity(config).contact
    live = [name for name in REGISTRY if (gateway_settings(config, name) or {}).get("simulated") == ""]

    def exists(stmt) -> bool:
        return db.session.scalar(stmt.limit(1)) is not None

    return [
        Step("contact", "The shop's own contact", bool(contact) and contact != DEMO_CONTACT,
             "Give the shop's contact in Settings (a phone and an e-mail customers can reach; or "
             "SHOP_CONTACT): checkout shows it."),
        Step("merchant_email", "Where paid orders are announced", bool(config.get("MERCHANT_EMAIL")),
             "Set MERCHANT_EMAIL: an e-mail for each paid order and a daily summary of what to fulfil."),
        Step("mail_server", "A mail server for receipts", bool(config.get("MAIL_SERVER")),
             "Set MAIL_SERVER (and MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM): without it, customers get "
             "no receipt and e-mails are only written to the log."),
        Step("gateway", "At least one payment gateway live", bool(live),
             "Set one gateway's credentials (README, Gateways): until then customers cannot pay."),
        Step("category", "At least one category", exists(select(Category.id).where(Category.active.is_(True))),
             "Add a category (Categories) so customers can browse by kind."),
        Step("product", "At least one product on sale",
             exists(select(Product.id).where(Product.active.is_(True), Product.id.in_(select(Price.product_id)))),
             "Add a product with a price (Products)."),
        Step("delivery", "At least one delivery option",
             exists(select(DeliveryZone.id).where(DeliveryZone.active.is_(True)))
             or exists(select(PickupPoint.id).where(PickupPoint.active.is_(True))),
             "Add a delivery zone or a pickup point (Delivery)."),
    ]
