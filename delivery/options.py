"""Delivery options: the merchant's zones and pickup points per market, and the fee of a choice.

A delivery choice travels as ``zone:<id>:<fee>`` or ``point:<id>:<fee>`` (the fee the
customer saw). ``choose`` re-checks it against the database: a zone of another market,
an inactive one or a fee that is not today's is refused with a message for the customer.
The fee is in minor units of the zone's currency; a zone may be free from an items total.
What happens after payment (the "To fulfil" queue, the fulfilment moves) is orders.fulfilment.
See docs/delivery.md.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import select

from core.money import format_money
from extensions import db
from models import DeliveryZone, PickupPoint

log = logging.getLogger(__name__)

HOME, PICKUP = "home", "pickup"
#: The checkout's "gateway" value for cash on delivery / pay at pickup (``Order.payment_method``).
CASH = "cash"
CITY_MAX, ADDRESS_MAX = 80, 200


class DeliveryError(ValueError):
    """A delivery choice that cannot be accepted; the message is for the customer."""

    def __init__(self, message: str, field: str = "delivery"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Option:
    """One way to get the goods, as offered at checkout."""

    method: str
    id: int
    name: str
    fee: int
    detail: str = ""      # pickup: address; home: ""
    hours: str = ""       # pickup: opening hours
    delay_min: int = 0
    delay_max: int = 0
    free_from: int | None = None
    cash_enabled: bool = False
    cash_max: int | None = None   # minor units; None: no limit

    def cash_for(self, total: int) -> bool:
        """Cash on delivery / at pickup offered here for an order of ``total`` (items + fee)."""
        return cash_allowed(self.cash_enabled, self.cash_max, total)

    @property
    def value(self) -> str:
        """The radio value: what the customer saw, re-checked on submit."""
        return f"{'zone' if self.method == HOME else 'point'}:{self.id}:{self.fee}"


@dataclass(frozen=True)
class Delivery:
    """The delivery copied onto an order (orders.lifecycle.place_order)."""

    method: str
    fee: int
    label: str
    zone_id: int | None = None
    point_id: int | None = None
    city: str = ""
    address: str = ""
    cash_enabled: bool = False
    cash_max: int | None = None

    def cash_for(self, total: int) -> bool:
        """Cash on delivery / at pickup accepted for an order of ``total`` with this delivery."""
        return cash_allowed(self.cash_enabled, self.cash_max, total)

    def order_columns(self) -> dict:
        """The ``Order`` columns this delivery fills."""
        return {"delivery_method": self.method, "delivery_zone_id": self.zone_id,
                "pickup_point_id": self.point_id, "delivery_label": self.label[:200],
                "delivery_city": self.city, "delivery_address": self.address,
                "delivery_fee": self.fee}


def cash_allowed(enabled: bool, maximum: int | None, total: int) -> bool:
    """Cash is taken when the zone or point enables it and ``total`` is within its maximum."""
    return bool(enabled) and (maximum is None or total <= maximum)


def zone_fee(zone: DeliveryZone, items_total: int) -> int:
    """The zone's fee for a cart of ``items_total`` (0 from its free threshold)."""
    if zone.free_from is not None and items_total >= zone.free_from:
        return 0
    return zone.fee


def active_zones(currency: str) -> list[DeliveryZone]:
    return list(db.session.scalars(select(DeliveryZone).where(
        DeliveryZone.currency == currency, DeliveryZone.active.is_(True))
        .order_by(DeliveryZone.position, DeliveryZone.name, DeliveryZone.id)))


def active_points(currency: str) -> list[PickupPoint]:
    return list(db.session.scalars(select(PickupPoint).where(
        PickupPoint.currency == currency, PickupPoint.active.is_(True))
        .order_by(PickupPoint.position, PickupPoint.name, PickupPoint.id)))


def options(currency: str, items_total: int) -> list[Option]:
    """What checkout offers in ``currency``: pickup points (free) first, then home delivery zones."""
    points = [Option(PICKUP, p.id, p.name, 0, p.address, p.opening_hours,
                     cash_enabled=p.cash_enabled, cash_max=p.cash_max) for p in active_points(currency)]
    zones = [Option(HOME, z.id, z.name, zone_fee(z, items_total), delay_min=z.delay_min_days,
                    delay_max=z.delay_max_days, free_from=z.free_from, cash_enabled=z.cash_enabled,
                    cash_max=z.cash_max) for z in active_zones(currency)]
    return points + zones


def cheapest_fee(currency: str, items_total: int) -> int | None:
    """The lowest home delivery fee in ``currency`` (for the cart), None without zones."""
    fees = [zone_fee(z, items_total) for z in active_zones(currency)]
    return min(fees) if fees else None


def place(method: str, ref_id: int) -> DeliveryZone | PickupPoint | None:
    """The zone (home delivery) or pickup point ``ref_id``."""
    return db.session.get(DeliveryZone if method == HOME else PickupPoint, ref_id)


def _find(currency: str, method: str, ref_id: int) -> DeliveryZone | PickupPoint:
    found = place(method, ref_id)
    if found is None or not found.active or found.currency != currency:
        if method == HOME:
            raise DeliveryError(_("This delivery zone is not available for this market; choose another."))
        raise DeliveryError(_("This pickup point is not available for this market; choose another."))
    return found


def offer(currency: str, method: str, ref_id: int, items_total: int) -> Delivery:
    """The delivery by ``method`` to zone or point ``ref_id``, its fee (minor units of
    ``currency``) for ``items_total``, before any customer address: a pickup point carries its
    own address and opening hours.

    For payment links and checkout alike; raises DeliveryError when the zone or point is not
    an active one of that market."""
    if method not in (HOME, PICKUP):
        raise DeliveryError(_("Choose how you want to receive your order."))
    place = _find(currency, method, ref_id)
    if method == PICKUP:
        where = ", ".join(p for p in (place.address, place.opening_hours) if p)
        return Delivery(PICKUP, 0, place.name, point_id=place.id, address=where[:300],
                        cash_enabled=place.cash_enabled, cash_max=place.cash_max)
    return Delivery(HOME, zone_fee(place, items_total), place.name, zone_id=place.id,
                    cash_enabled=place.cash_enabled, cash_max=place.cash_max)


def quote(currency: str, method: str, ref_id: int, items_total: int) -> int:
    """The delivery fee (minor units of ``currency``) for ``method`` to zone or point ``ref_id``."""
    return offer(currency, method, ref_id, items_total).fee


def parse(value: str) -> tuple[str, int, int | None]:
    """``zone:3:1500`` → (home, 3, 1500); a malformed value raises DeliveryError."""
    kind, _sep, rest = (value or "").partition(":")
    ref, _sep, fee = rest.partition(":")
    method = {"zone": HOME, "point": PICKUP}.get(kind)
    if method is None or not ref.isdigit() or len(ref) > 12 or (fee and (not fee.isdigit() or len(fee) > 15)):
        raise DeliveryError(_("Choose how you want to receive your order."))
    return method, int(ref), int(fee) if fee else None


def choose(currency: str, value: str, items_total: int, city: str = "", address: str = "") -> Delivery:
    """Re-check the customer's choice against the database and return the order's delivery."""
    method, ref_id, seen_fee = parse(value)
    delivery = offer(currency, method, ref_id, items_total)
    if seen_fee is not None and seen_fee != delivery.fee:
        raise DeliveryError(_("The delivery fee is now %(fee)s: please check your order and confirm again.",
                              fee=format_money(delivery.fee, currency)))
    if method == PICKUP:
        return delivery
    city, address = " ".join(city.split()), " ".join(address.split())
    if not 2 <= len(city) <= CITY_MAX:
        raise DeliveryError(_("Give the city or area (2 to %(max)d characters).", max=CITY_MAX), "city")
    if not 5 <= len(address) <= ADDRESS_MAX:
        raise DeliveryError(_("Describe the street or a landmark (5 to %(max)d characters).", max=ADDRESS_MAX),
                            "address")
    return replace(delivery, city=city, address=address)


def check_cash(currency: str, delivery: Delivery | None, items_total: int) -> None:
    """Refuse cash on delivery / at pickup where the chosen delivery does not take it, or above
    its maximum (the checkout offers it only there; this is the server's re-check)."""
    if delivery is None:
        raise DeliveryError(_("Cash payment needs a delivery or pickup choice that accepts it."), "gateway")
    total = items_total + delivery.fee
    if not delivery.cash_enabled:
        raise DeliveryError(_("Cash is not accepted for this delivery choice: choose another payment "
                              "method or another delivery."), "gateway")
    if not delivery.cash_for(total):
        raise DeliveryError(_("Cash is accepted here up to %(max)s; this order is %(total)s. Choose "
                              "another payment method.", max=format_money(delivery.cash_max or 0, currency),
                              total=format_money(total, currency)), "gateway")


# the merchant's zones and points

def zones_and_points() -> tuple[list[DeliveryZone], list[PickupPoint]]:
    """Every zone and point, by market, active first."""
    zones = db.session.scalars(select(DeliveryZone).order_by(
        DeliveryZone.currency, DeliveryZone.active.desc(), DeliveryZone.position, DeliveryZone.name))
    points = db.session.scalars(select(PickupPoint).order_by(
        PickupPoint.currency, PickupPoint.active.desc(), PickupPoint.position, PickupPoint.name))
    return list(zones), list(points)


def save(obj: DeliveryZone | PickupPoint, data: dict) -> DeliveryZone | PickupPoint:
    """Create or update a zone or a point from validated form data (committed)."""
    for key, value in data.items():
        setattr(obj, key, value)
    db.session.add(obj)
    db.session.commit()
    log.info("%s %s saved (%s)", type(obj).__name__, obj.id, obj.currency)
    return obj


def qr_svg(text: str) -> str:
    """``text`` as an inline SVG QR code (for the packing slip)."""
    import segno

    return segno.make(text, error="m").svg_inline(scale=4, border=2, title=text)
