"""Promo codes: what a code saves on a cart, whether it may be used, and its uses counted once.

A code is checked when the customer enters it (cart or checkout), again when the order is placed,
and its use is taken in the order's own transaction (``redeem``: one conditional UPDATE, so 20
buyers at once for a code with 5 uses make exactly 5 discounted orders; the others are told and
nothing of theirs is written). An order that closes unpaid gives its use back (``release``), once.

Savings are integer minor units: a percentage is rounded down to the currency's smallest unit (a
whole franc in XOF, XAF, RWF), a fixed amount is the merchant's own per market, and neither ever
exceeds what it applies to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import session
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from extensions import db
from models import Order, PromoCode, PromoRedemption, utcnow
from shop.cart import PricedCart, reset_checkout_key

CODE_MAX = 32


class PromoError(ValueError):
    """The code cannot be used; the message is for the customer."""


@dataclass(frozen=True)
class Saving:
    """What a valid code does to this cart: ``amount`` off the items, or ``free_delivery``."""

    code: str
    amount: int
    free_delivery: bool = False

    def discount(self, delivery_fee: int) -> int:
        """The order's discount once the delivery fee is known."""
        return self.amount + (delivery_fee if self.free_delivery else 0)


#: The code the customer entered, kept in the session until the order is placed.
SESSION_KEY = "promo"


def current_code() -> str:
    return normalise(str(session.get(SESSION_KEY) or ""))


def apply(code: str, cart: PricedCart) -> Saving:
    """Check ``code`` against the cart and keep it for checkout (PromoError: nothing kept)."""
    saving = evaluate(code, cart)
    session[SESSION_KEY] = saving.code
    reset_checkout_key()  # another price: the next checkout places another order
    return saving


def forget() -> None:
    if session.pop(SESSION_KEY, None) is not None:
        reset_checkout_key()


def for_cart(cart: PricedCart) -> tuple[Saving | None, str | None]:
    """The session's code applied to ``cart`` now: (saving, None), (None, why it no longer
    applies: the code is then forgotten), or (None, None) without a code."""
    code = current_code()
    if not code or not cart.lines:
        return None, None
    try:
        return evaluate(code, cart), None
    except PromoError as exc:
        forget()
        return None, str(exc)


def normalise(code: str) -> str:
    return "".join(code.split()).upper()[:CODE_MAX]


def find(code: str) -> PromoCode | None:
    code = normalise(code)
    return db.session.scalar(select(PromoCode).where(PromoCode.code == code)) if code else None


def evaluate(code: str, cart: PricedCart, phone: str = "", now: datetime | None = None) -> Saving:
    """The saving ``code`` gives ``cart``, or PromoError saying why it does not apply."""
    promo = find(code)
    now = now or utcnow()
    if promo is None or not promo.active:
        raise PromoError(_("This code does not exist. Check how it is spelt."))
    if promo.starts_at and now < promo.starts_at:
        raise PromoError(_("This code can be used from %(day)s.", day=promo.starts_at.date().isoformat()))
    if promo.ends_at and now >= promo.ends_at:
        raise PromoError(_("This code has expired."))
    if promo.max_uses is not None and promo.uses >= promo.max_uses:
        raise PromoError(_("This code has been used as many times as it can be."))
    if phone and promo.max_uses_per_phone is not None and uses_by(promo, phone) >= promo.max_uses_per_phone:
        raise PromoError(_("You have already used this code."))
    market = promo.market(cart.currency)
    if promo.kind == "fixed" and (market is None or not market.amount_off):
        raise PromoError(_("This code is not valid in %(currency)s.", currency=cart.currency))
    if market is not None and cart.total < market.min_subtotal:
        from core.money import format_money

        raise PromoError(_("This code needs a cart of at least %(amount)s.",
                           amount=format_money(market.min_subtotal, cart.currency)))
    eligible = eligible_total(promo, cart)
    if eligible <= 0 and promo.kind != "free_delivery":
        raise PromoError(_("This code does not apply to what is in your cart."))
    if promo.kind == "percent":
        amount = eligible * (promo.percent or 0) // 100
    elif promo.kind == "fixed":
        amount = min(market.amount_off or 0, eligible) if market else 0
    else:
        amount = 0
    return Saving(promo.code, amount, free_delivery=promo.kind == "free_delivery")


def eligible_total(promo: PromoCode, cart: PricedCart) -> int:
    """The cart's lines the code applies to: all, or those of its products or categories."""
    if not promo.products and not promo.categories:
        return cart.total
    products = {p.id for p in promo.products}
    categories = {c.id for c in promo.categories}
    return sum(line.line_total for line in cart.lines
               if line.product.id in products or line.product.category_id in categories)


def uses_by(promo: PromoCode, phone: str) -> int:
    return db.session.scalar(select(func.count()).select_from(PromoRedemption).where(
        PromoRedemption.promo_id == promo.id, PromoRedemption.phone == phone,
        PromoRedemption.released.is_(False))) or 0


def _take_use(promo_id: int, *condition) -> bool:
    """One more use of the code, if it has one left (and ``condition``): one conditional UPDATE,
    which locks the code's row, so uses are counted one transaction at a time and the CHECK
    ``uses <= max_uses`` is never what refuses."""
    taken = db.session.execute(
        update(PromoCode).where(PromoCode.id == promo_id, *condition,
                                (PromoCode.max_uses.is_(None)) | (PromoCode.uses < PromoCode.max_uses))
        .values(uses=PromoCode.uses + 1).execution_options(synchronize_session=False))
    return taken.rowcount == 1


def redeem(order: Order, code: str) -> None:
    """Take one use of ``code`` for ``order`` in its transaction (the caller commits or rolls
    back): PromoError when it ran out meanwhile or this phone has used it up."""
    promo = find(code)
    if promo is None:
        raise PromoError(_("This code does not exist. Check how it is spelt."))
    if not _take_use(promo.id, PromoCode.active.is_(True)):
        raise PromoError(_("This code has just been used as many times as it can be."))
    db.session.expire(promo, ["uses"])
    if promo.max_uses_per_phone is not None and uses_by(promo, order.customer_phone) >= promo.max_uses_per_phone:
        raise PromoError(_("You have already used this code."))
    db.session.add(PromoRedemption(promo_id=promo.id, order_id=order.id, phone=order.customer_phone))


def release(order: Order) -> bool:
    """An unpaid order closed: give its code's use back, once."""
    if not order.promo_code:
        return False
    released = db.session.execute(
        update(PromoRedemption).where(PromoRedemption.order_id == order.id, PromoRedemption.released.is_(False))
        .values(released=True).execution_options(synchronize_session=False))
    if released.rowcount != 1:
        return False
    promo_id = db.session.scalar(select(PromoRedemption.promo_id).where(PromoRedemption.order_id == order.id))
    db.session.execute(update(PromoCode).where(PromoCode.id == promo_id, PromoCode.uses > 0)
                       .values(uses=PromoCode.uses - 1).execution_options(synchronize_session=False))
    return True


def take_again(order: Order) -> str | None:
    """An expired order paid late (its stock held again): the customer paid the discounted total,
    so its code's use, given back at expiry, counts again when the code has a use left. When it
    has none (others used it meanwhile) the order keeps its discount all the same (the money is
    in, and a payment is never refused for it) and the note for the order's log says so. None
    without a code."""
    if not order.promo_code:
        return None
    redemption = db.session.scalar(select(PromoRedemption).where(
        PromoRedemption.order_id == order.id, PromoRedemption.released.is_(True)))
    if redemption is None:
        return None
    if not _take_use(redemption.promo_id):  # a code switched off since still counts the paid use
        return (f"code {order.promo_code} not counted again: its uses ran out meanwhile; "
                "the order keeps its discount")
    redemption.released = False
    return f"code {order.promo_code} counted again"


# the merchant's side: making and changing codes (the dashboard's Promo codes page)

class PromoDataError(ValueError):
    """The code cannot be saved as given; ``field`` names the form field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class PromoData:
    code: str
    kind: str  # models.PROMO_KINDS
    percent: int | None = None
    #: currency → (amount off, minimum subtotal), both typed in major units ("" = none)
    markets: dict[str, tuple[str, str]] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_phone: int | None = None
    product_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()
    active: bool = True


def all_codes() -> list[PromoCode]:
    return list(db.session.scalars(select(PromoCode).order_by(PromoCode.created_at.desc(), PromoCode.id.desc())))


def save_promo(promo: PromoCode | None, data: PromoData) -> PromoCode:
    """Create or change a code (PromoDataError, nothing written)."""
    from config import MARKETS
    from models import Category, Product, PromoMarket
    from models.promos import PROMO_KINDS
    from shop.products import ProductError, to_minor

    code = normalise(data.code)
    if not code or not code.isalnum():
        raise PromoDataError("A code is letters and digits only (e.g. TABASKI10).", "code")
    clash = db.session.scalar(select(PromoCode.id).where(PromoCode.code == code))
    if clash is not None and (promo is None or clash != promo.id):
        raise PromoDataError(f"The code {code} exists already.", "code")
    if data.kind not in PROMO_KINDS:
        raise PromoDataError("Choose what the code gives.", "kind")
    if data.kind == "percent" and not (data.percent and 1 <= data.percent <= 100):
        raise PromoDataError("A percentage goes from 1 to 100.", "percent")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise PromoDataError("The end comes after the start.", "ends_at")
    markets: dict[str, tuple[int | None, int]] = {}
    for currency, (off, minimum) in (data.markets or {}).items():
        if currency not in MARKETS:
            continue
        try:
            amount_off = to_minor(off, currency) if off.strip() else None
            min_subtotal = to_minor(minimum, currency) if minimum.strip() else 0
        except ProductError as exc:
            raise PromoDataError(str(exc), f"off_{currency}") from None
        if amount_off is not None or min_subtotal:
            markets[currency] = (amount_off, min_subtotal)
    if data.kind == "fixed" and not any(off for off, _ in markets.values()):
        raise PromoDataError("A fixed amount needs its amount in at least one market.", "kind")
    promo = promo or PromoCode(uses=0)
    if promo.id is None:
        db.session.add(promo)
    promo.code, promo.kind, promo.active = code, data.kind, data.active
    promo.percent = data.percent if data.kind == "percent" else None
    promo.starts_at, promo.ends_at = data.starts_at, data.ends_at
    promo.max_uses, promo.max_uses_per_phone = data.max_uses, data.max_uses_per_phone
    if promo.max_uses is not None and promo.uses > promo.max_uses:
        raise PromoDataError(f"It has been used {promo.uses} times already.", "max_uses")
    promo.markets = [PromoMarket(currency=c, amount_off=off if data.kind == "fixed" else None, min_subtotal=m)
                     for c, (off, m) in markets.items()]
    promo.products = list(db.session.scalars(select(Product).where(Product.id.in_(data.product_ids)))) \
        if data.product_ids else []
    promo.categories = list(db.session.scalars(select(Category).where(Category.id.in_(data.category_ids)))) \
        if data.category_ids else []
    db.session.commit()
    return promo
