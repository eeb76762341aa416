"""Payment links: the merchant turns a conversation (WhatsApp, a call) into one order that
the customer pays at ``/p/<code>`` through the same gateways as a catalogue order.

A link is made with its order: the lines are priced from the database (catalogue products)
or typed by the merchant (free lines), stock is reserved as a checkout does, and the order
expires with the link. The link's status follows its order (orders.states): paid when the
order is paid, expired when it expires, cancelled when either is cancelled. See
docs/payment-links.md.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import phones
from core.money import format_money
from core.references import new_reference
from core.urls import external_url
from delivery import options as delivery_service
from extensions import db
from mail import outbox as mail
from models import Order, OrderLine, Payment, PaymentEvent, PaymentLink, Product, Variant, shop_identity, utcnow
from orders import states
from orders.lifecycle import Customer, expire_order
from orders.states import LinkStatus, OrderStatus
from payments.attempts import refresh_status
from providers.base import EXPONENTS
from shop.stock import OutOfStock, reserve_lines

log = logging.getLogger(__name__)

#: The alphabet of link codes: lower-case letters and digits a person cannot confuse.
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
#: 14 characters of 32: 70 bits, not guessable by trying.
CODE_LENGTH = 14
#: A free line's amount, and a link's total, at most (minor units): far above any real sale,
#: far below what a 64-bit column holds.
MAX_AMOUNT = 10**12
MAX_QUANTITY = 1000
MAX_LINES = 20
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 30
LANGUAGES = ("fr", "en")
#: An amount as a merchant types it: digits, then maybe a decimal part (no sign, no exponent).
AMOUNT_TEXT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,4})?")


class LinkError(ValueError):
    """The link cannot be made as asked; the message is for the merchant (English)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProductLine:
    product_id: int
    quantity: int
    #: The variant of a product with options; None: a product without options (its default variant).
    variant_id: int | None = None


@dataclass(frozen=True)
class FreeLine:
    description: str
    amount: int  # minor units, from parse_amount
    quantity: int = 1


@dataclass
class LinkRequest:
    """What the merchant asked for in the dashboard."""

    currency: str
    products: list[ProductLine] = field(default_factory=list)
    free: list[FreeLine] = field(default_factory=list)
    customer_name: str = ""
    customer_phone: str = ""  # E.164, or "" when unknown
    language: str = "fr"
    note: str = ""
    expiry_days: int = DEFAULT_EXPIRY_DAYS
    delivery_method: str = ""


def parse_amount(text: str, currency: str) -> int:
    """``"12.50", "USD"`` → 1250, exactly (Decimal, never a float). Refuses more decimals than
    the currency has, zero or less, and more than MAX_AMOUNT minor units."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not AMOUNT_TEXT.fullmatch(cleaned):
        raise LinkError(f"Write an amount in {currency}, such as 1500 or 12.50.", "amount")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise LinkError(f"Write an amount in {currency}, such as 1500 or 12.50.", "amount") from None
    if not value.is_finite() or value <= 0:
        raise LinkError("The amount must be above zero.", "amount")
    places = EXPONENTS[currency]
    minor = value.scaleb(places)
    if minor != minor.to_integral_value():
        raise LinkError(f"{currency} amounts have at most {places} decimal place(s).", "amount")
    if minor > MAX_AMOUNT:
        raise LinkError("That amount is too large for a payment link.", "amount")
    return int(minor)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# the delivery hook (the delivery-zones work plugs in here)

def delivery_choices(currency: str) -> list[tuple[str, str]]:
    """The delivery methods a link in ``currency`` may carry, as ``(value, label)``: the
    market's pickup points and home delivery zones (delivery.options)."""
    with force_locale("en"):  # the dashboard is in English
        return [(option.value.rsplit(":", 1)[0], _option_label(option, currency))
                for option in delivery_service.options(currency, 0)]


def _option_label(option: delivery_service.Option, currency: str) -> str:
    if option.method == delivery_service.PICKUP:
        return f"Pickup — {option.name}"
    fee = format_money(option.fee, currency, "en")
    free = f", free from {format_money(option.free_from, currency, 'en')}" if option.free_from else ""
    return f"Home delivery — {option.name} ({fee}{free}; address agreed with the customer)"


def apply_delivery(order: Order, method: str) -> None:
    """Add the chosen delivery to the link's order before it is stored: its fee, re-read from
    the database for the order's items, becomes part of the total."""
    try:
        kind, ref_id, _fee = delivery_service.parse(method)
        delivery = delivery_service.offer(order.currency, kind, ref_id, order.subtotal)
    except delivery_service.DeliveryError as exc:
        raise LinkError(str(exc), "delivery_method") from None
    for key, value in delivery.order_columns().items():
        setattr(order, key, value)
    order.total = order.subtotal + delivery.fee
    if order.total > MAX_AMOUNT:
        raise LinkError("The total is too large for a payment link.", "delivery_method")


# making, finding and cancelling links

def create_link(request: LinkRequest, *, actor: str) -> PaymentLink:
    """Store the link and its order, reserving the products' stock, in one transaction.

    Prices of catalogue products are read from the database now; free lines keep the
    merchant's amount. Raises LinkError (nothing stored) when a line cannot be sold.
    """
    lines = _lines(request)
    total = sum(line.line_total for line in lines)
    if not lines:
        raise LinkError("Add at least one product or free line.", "lines")
    if total > MAX_AMOUNT:
        raise LinkError("The total is too large for a payment link.", "lines")
    code = new_code()
    expires_at = utcnow() + timedelta(days=request.expiry_days)
    customer = Customer(request.customer_name, "", request.customer_phone, request.language)
    order = Order(
        reference=new_reference("CMD"), token=secrets.token_urlsafe(24), checkout_key=f"link:{code}",
        currency=request.currency, subtotal=total, total=total, customer_name=customer.name,
        customer_email=customer.email, customer_phone=customer.phone, language=customer.language,
        expires_at=expires_at, lines=lines,
    )
    link = PaymentLink(code=code, order=order, note=request.note,
                       delivery_method=request.delivery_method or None, created_by=actor[:254])
    try:
        variants = {v.id: v for line in lines if line.product is not None for v in line.product.variants}
        low = reserve_lines((variants[line.variant_id], line.quantity) for line in lines
                            if line.variant_id is not None)
        if request.delivery_method:
            if request.delivery_method not in dict(delivery_choices(request.currency)):
                raise LinkError("Choose a delivery method from the list.", "delivery_method")
            apply_delivery(order, request.delivery_method)
        db.session.add(link)
        db.session.flush()
        db.session.add(_event(order, actor, f"payment link {code} made, expires {expires_at:%Y-%m-%d %H:%M} UTC"))
        mail.enqueue_low_stock(low)
        db.session.commit()
    except OutOfStock as exc:
        db.session.rollback()
        raise LinkError(_("Sorry, there is not enough stock left of %(name)s.", name=str(exc)), "lines") from None
    except LinkError:
        db.session.rollback()
        raise
    except IntegrityError:  # a code drawn twice (70 bits: in theory)
        db.session.rollback()
        raise LinkError("Please try again.") from None
    log.info("payment link %s made by %s for order %s: %s %s", code, actor, order.reference,
             order.total, order.currency)
    return link


def _lines(request: LinkRequest) -> list[OrderLine]:
    if request.currency not in EXPONENTS:
        raise LinkError("Choose a market.", "currency")
    if len(request.products) + len(request.free) > MAX_LINES:
        raise LinkError(f"At most {MAX_LINES} lines on one link.", "lines")
    lines: list[OrderLine] = []
    wanted: dict[tuple[int, int | None], int] = {}
    for item in request.products:
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise LinkError(f"Quantities go from 1 to {MAX_QUANTITY}.", "lines")
        key = (item.product_id, item.variant_id)
        wanted[key] = wanted.get(key, 0) + item.quantity
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_({product_id for product_id, _ in wanted}))
        .options(selectinload(Product.prices), selectinload(Product.options),
                 selectinload(Product.variants).selectinload(Variant.prices)))}
    for (product_id, variant_id), quantity in wanted.items():
        product = products.get(product_id)
        if product is None or not product.active:
            raise LinkError("One of the products is not on sale any more.", "lines")
        variant = product.variant(variant_id)
        if variant is None:
            raise LinkError(f"Choose which {product.name} (its options) to sell.", "lines")
        price = variant.price_in(request.currency) or product.price_in(request.currency)
        if price is None:
            raise LinkError(f"{product.name} has no price in {request.currency}.", "lines")
        if quantity > MAX_QUANTITY:
            raise LinkError(f"Quantities go from 1 to {MAX_QUANTITY}.", "lines")
        lines.append(OrderLine(product_id=product.id, product=product, variant_id=variant.id, name=product.name,
                               variant_name=variant.label, unit_price=price.amount, quantity=quantity,
                               line_total=price.amount * quantity))
    for free in request.free:
        description = " ".join(free.description.split())[:200]
        if not description:
            raise LinkError("Each free line needs a description.", "lines")
        if not 0 < free.amount <= MAX_AMOUNT or not 1 <= free.quantity <= MAX_QUANTITY:
            raise LinkError("That amount is too large for a payment link.", "lines")
        lines.append(OrderLine(product_id=None, name=description, unit_price=free.amount,
                               quantity=free.quantity, line_total=free.amount * free.quantity))
    return lines


def _event(order: Order, actor: str, note: str):
    return PaymentEvent(order_id=order.id, actor=actor[:254], gateway="", kind="note", note=note[:300])


def find(code: str) -> PaymentLink | None:
    """The link whose code is ``code`` (anything longer than a code finds nothing)."""
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(PaymentLink).where(PaymentLink.code == code))


def cancel_link(link: PaymentLink, *, actor: str) -> bool:
    """Cancel an open link and its pending order (stock back on sale, attempts ended).
    Open attempts are asked first, as for a cancel in the dashboard: a link that was in fact
    paid is not cancelled. False when the link is no longer open."""
    if link.status != LinkStatus.OPEN:
        return False
    for payment in [p for p in link.order.payments if p.status in Payment.ACTIVE and p.gateway_ref]:
        refresh_status(payment, force=True, kind="status-check", note=f"before cancel by {actor}")
    db.session.refresh(link)
    if not states.transition(link, LinkStatus.CANCELLED, actor=actor, why="cancelled by the merchant"):
        db.session.rollback()
        return False
    db.session.commit()
    log.info("payment link %s cancelled by %s", link.code, actor)
    return True


def catch_up(link: PaymentLink) -> PaymentLink:
    """Bring the link up to date before showing it: its order ran out → expired."""
    order = link.order
    if order.status == OrderStatus.PENDING and order.expires_at <= utcnow():
        expire_order(order)
        db.session.refresh(link)
    return link


def set_customer(link: PaymentLink, customer: Customer) -> None:
    """What the customer typed on the link's page, onto its pending order; the order's
    confirmation e-mail is written the first time (it had no address before)."""
    order = link.order
    if order.status != OrderStatus.PENDING:
        return
    order.customer_name, order.customer_email = customer.name, customer.email
    order.customer_phone, order.language = customer.phone, customer.language
    db.session.flush()
    mail.enqueue(order, "confirmation")
    db.session.commit()


def page(status: str = "", page_number: int = 1, per_page: int = 50) -> tuple[list[PaymentLink], int]:
    """Links for the dashboard, newest first, with their orders; and how many match."""
    stmt = select(PaymentLink)
    counted = select(func.count()).select_from(PaymentLink)
    if status:
        stmt, counted = stmt.where(PaymentLink.status == status), counted.where(PaymentLink.status == status)
    links = list(db.session.scalars(
        stmt.options(selectinload(PaymentLink.order).selectinload(Order.lines))
        .order_by(PaymentLink.created_at.desc(), PaymentLink.id.desc())
        .limit(per_page).offset((page_number - 1) * per_page)))
    return links, db.session.scalar(counted) or 0


# what the merchant sends

def public_url(link: PaymentLink) -> str:
    return external_url("links.pay", code=link.code)


def share_message(link: PaymentLink) -> str:
    """The message prefilled in WhatsApp, in the customer's language."""
    order = link.order
    shop = shop_identity(current_app.config).name
    with force_locale(order.language or "fr"):
        amount = format_money(order.total, order.currency, order.language or "fr")
        if order.customer_name:
            return _("Hello %(name)s, here is your payment link from %(shop)s for %(amount)s: %(url)s",
                     name=order.customer_name, shop=shop, amount=amount, url=public_url(link))
        return _("Hello, here is your payment link from %(shop)s for %(amount)s: %(url)s",
                 shop=shop, amount=amount, url=public_url(link))


def whatsapp_url(link: PaymentLink) -> str:
    """``https://wa.me/<digits>?text=…`` (no number: WhatsApp asks whom to send it to)."""
    return phones.whatsapp_url(link.order.customer_phone, share_message(link))


def qr_svg(link: PaymentLink) -> str:
    """The link's address as a QR code, an SVG document."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(public_url(link), error="m").save(out, kind="svg", scale=6, border=2,
                                                  xmldecl=True, svgns=True, title=f"QR {link.code}")
    return out.getvalue().decode()
