"""Read-only figures for the dashboard: revenue, per-gateway conversion, the order list, CSV.

Every list is built from a fixed number of queries whatever its length (the
order's main payment comes from a correlated subquery, not one query per row),
and the CSV export streams rows with ``yield_per`` so memory stays flat.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, or_, select, union
from sqlalchemy.orm import aliased, selectinload

from core import search
from core.spreadsheet import safe_cell
from delivery.options import CASH
from extensions import db
from models import Order, OrderLine, Payment, PaymentEvent, utcnow
from payments.attention import counts
from providers.base import to_major
from shop import stock

PAGE_SIZE = 50
OVERVIEW_DAYS = 30
CSV_BATCH = 500
CSV_HEADER = ["reference", "created_at", "paid_at", "customer_name", "customer_email",
              "customer_phone", "currency", "amount", "status", "gateway", "gateway_reference",
              "payment_reference", "delivery_method", "delivery_place", "delivery_fee",
              "fulfilment_status", "received", "refunded", "discount", "promo_code", "items", "payment_method"]


# overview

def _day(column):
    """The UTC calendar day of a timestamp column, on SQLite (naive UTC) and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def net_amount():
    """What an order brought in, less what was refunded: the money received (its total for an
    order paid without a recorded amount) minus refunds."""
    return case((Order.amount_received > 0, Order.amount_received), else_=Order.total) - Order.amount_refunded


def revenue_by_day(days: int = OVERVIEW_DAYS, today: date | None = None) -> dict[str, list[tuple[date, int]]]:
    """Net revenue (paid orders, less their refunds; a refunded order nets nothing) per currency
    per UTC day it was paid, oldest first, every day present (0 when none)."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=timezone.utc)
    day = _day(Order.paid_at)
    rows = db.session.execute(
        select(Order.currency, day, func.sum(net_amount()))
        .where(Order.status.in_(("paid", "refunded")), Order.paid_at >= start)
        .group_by(Order.currency, day)
    )
    totals: dict[str, dict[date, int]] = {}
    for currency, raw_day, amount in rows:
        totals.setdefault(currency, {})[date.fromisoformat(str(raw_day))] = int(amount)
    span = [first + timedelta(days=i) for i in range(days)]
    return {c: [(d, per_day.get(d, 0)) for d in span] for c, per_day in sorted(totals.items())}


@dataclass
class GatewayFigures:
    gateway: str
    started: int
    paid: int
    failed: int  # attempts that failed; for cash: orders refused / returned
    #: Net revenue (minor units, per currency) of the orders paid in the period whose paying
    #: payment is at this gateway (cash: collected), less refunds, as revenue_by_day counts it.
    revenue: dict[str, int] = field(default_factory=dict)

    @property
    def conversion(self) -> Decimal:
        """Share of orders started at this gateway that it paid, in percent."""
        if not self.started:
            return Decimal(0)
        return (Decimal(self.paid) * 100 / self.started).quantize(Decimal("0.1"))


def gateway_figures(days: int = OVERVIEW_DAYS) -> list[GatewayFigures]:
    """Per gateway over the period: orders started there, paid there, attempts that failed, net
    revenue; then cash on delivery / at pickup: cash orders placed, collected, refused."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(
            Payment.gateway,
            func.count(distinct(Payment.order_id)),
            func.count(distinct(case((Payment.status == "succeeded", Payment.order_id)))),
            func.sum(case((Payment.status.in_(("failed", "error")), 1), else_=0)),
        )
        .where(Payment.created_at >= since, Payment.gateway != CASH)
        .group_by(Payment.gateway)
        .order_by(Payment.gateway)
    )
    revenue = _revenue_by_gateway(since)
    figures = [GatewayFigures(g, started, paid, int(failed or 0), revenue.get(g, {}))
               for g, started, paid, failed in rows]
    collected = exists().where(Payment.order_id == Order.id, Payment.gateway == CASH,
                               Payment.status == "succeeded").correlate(Order)
    started, paid, refused = db.session.execute(
        select(func.count(), func.sum(case((collected, 1), else_=0)),
               func.sum(case((and_(Order.status == "cancelled", ~collected), 1), else_=0)))
        .where(Order.payment_method == CASH, Order.created_at >= since)
    ).one()
    if started or CASH in revenue:
        figures.append(GatewayFigures(CASH, started, int(paid or 0), int(refused or 0), revenue.get(CASH, {})))
    return figures


def _revenue_by_gateway(since: datetime) -> dict[str, dict[str, int]]:
    """Net revenue per gateway and currency of the orders paid since ``since``: each order counts
    at the gateway of the payment that paid it (its success)."""
    rows = db.session.execute(
        select(Payment.gateway, Order.currency, func.sum(net_amount()))
        .select_from(Order).join(Payment, Payment.id == _main_payment_id())
        .where(Order.status.in_(("paid", "refunded")), Order.paid_at >= since, Payment.status == "succeeded")
        .group_by(Payment.gateway, Order.currency)
    )
    found: dict[str, dict[str, int]] = {}
    for gateway, currency, amount in rows:
        found.setdefault(gateway, {})[currency] = int(amount or 0)
    return found


@dataclass(frozen=True)
class DiscountFigures:
    currency: str
    orders: int
    given: int  # minor units


def discounts_given(days: int = OVERVIEW_DAYS) -> list[DiscountFigures]:
    """Promo codes over the period, per currency: paid orders that used one and what they saved."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(Order.currency, func.count(), func.sum(Order.discount))
        .where(Order.discount > 0, Order.status.in_(("paid", "refunded")), Order.paid_at >= since)
        .group_by(Order.currency).order_by(Order.currency))
    return [DiscountFigures(c, n, int(total or 0)) for c, n, total in rows]


# the chart (server-side SVG: no script, no CDN)

@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    amount: int


@dataclass
class Chart:
    currency: str
    width: int
    height: int
    bars: list[Bar]
    top: int
    total: int


CHART_WIDTH, CHART_HEIGHT, CHART_GAP = 600, 140, 2


def chart(currency: str, series: list[tuple[date, int]]) -> Chart:
    """Bar geometry for one currency's daily revenue (scaled to its best day)."""
    top = max((amount for _, amount in series), default=0) or 1
    step = CHART_WIDTH / max(len(series), 1)
    bars = []
    for i, (day, amount) in enumerate(series):
        height = round(amount / top * (CHART_HEIGHT - 10), 1)
        bars.append(Bar(round(i * step, 1), round(CHART_HEIGHT - height, 1),
                        round(step - CHART_GAP, 1), height, day, amount))
    return Chart(currency, CHART_WIDTH, CHART_HEIGHT, bars, top, sum(a for _, a in series))


#: The overview lists this many low-stock variants (a link shows them all).
LOW_STOCK_SHOWN = 10


def overview() -> dict:
    """Everything the overview page shows, in a handful of queries."""
    revenue = revenue_by_day()
    return {
        "charts": [chart(currency, series) for currency, series in revenue.items()],
        "gateways": gateway_figures(),
        "attention": counts(),
        "days": OVERVIEW_DAYS,
        "low_stock": stock.low_stock(limit=LOW_STOCK_SHOWN + 1),
        "discounts": discounts_given(),
    }


# the order list

@dataclass(frozen=True)
class OrderFilter:
    status: str = ""
    gateway: str = ""
    currency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    delivery: str = ""    # home, pickup, none (no delivery)
    zone: str = ""        # zone:<id> or point:<id>
    fulfilment: str = ""  # a FulfilmentStatus value


def _search(q: str):
    """What a merchant has in hand: order or payment reference, e-mail (any case), the
    gateway's own reference (exact), a phone number in any format (its last digits), or
    words of the customer's name or e-mail (any case, any accents: "ouedraogo" finds
    "Ouédraogo")."""
    q = q.strip()[:120]
    upper = q.upper()
    references = {upper, upper if upper.startswith("CMD-") else f"CMD-{upper}"}
    digits = "".join(ch for ch in q if ch.isdigit())
    attempt = aliased(Payment)  # the list also joins Payment: keep the two apart
    # A UNION of lookups that each use an index (an OR across tables would scan every order).
    lookups = [
        select(Order.id).where(Order.reference.in_(references)),
        select(Order.id).where(func.lower(Order.customer_email) == q.lower()),
        select(attempt.order_id).where(attempt.reference == upper),
        select(attempt.order_id).where(attempt.gateway_ref == q),
        select(attempt.order_id).where(attempt.gateway_ref2 == q),
    ]
    if len(digits) >= 6:  # any format: "+226 70 12 34 56", "0022670123456", "70-12-34-56"
        digits = digits[2:] if digits.startswith("00") else digits.lstrip("0")
        lookups.append(select(Order.id).where(Order.customer_phone.endswith(digits, autoescape=True)))
    name = search.matches(Order.search_text, q) if len(q) >= 2 and not digits else None
    if name is not None:  # the customer's name or e-mail, or part of them: any case, any accents
        lookups.append(select(Order.id).where(name))
    return Order.id.in_(union(*lookups))


def _conditions(f: OrderFilter) -> list:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        conditions.append(Order.status == f.status)
    if f.currency:
        conditions.append(Order.currency == f.currency)
    if f.gateway:
        attempt = aliased(Payment)
        conditions.append(exists().where(attempt.order_id == Order.id, attempt.gateway == f.gateway)
                          .correlate(Order))
    if f.date_from:
        conditions.append(Order.created_at >= datetime.combine(f.date_from, time.min, tzinfo=timezone.utc))
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=timezone.utc)
        conditions.append(Order.created_at < end)
    if f.q.strip():
        conditions.append(_search(f.q))
    return conditions + _delivery_conditions(f)


def _delivery_conditions(f: OrderFilter) -> list:
    conditions: list[ColumnElement[bool]] = []
    if f.delivery == "none":
        conditions.append(Order.delivery_method.is_(None))
    elif f.delivery:
        conditions.append(Order.delivery_method == f.delivery)
    kind, _sep, ref = f.zone.partition(":")
    if ref.isdigit() and kind in ("zone", "point"):
        column = Order.delivery_zone_id if kind == "zone" else Order.pickup_point_id
        conditions.append(column == int(ref))
    if f.fulfilment:
        conditions.append(Order.fulfilment_status == f.fulfilment)
    return conditions


def _main_payment_id():
    """The payment that speaks for an order: its success if any, else its latest attempt."""
    return (
        select(Payment.id).where(Payment.order_id == Order.id)
        .order_by((Payment.status == "succeeded").desc(), Payment.id.desc())
        .limit(1).correlate(Order).scalar_subquery()
    )


@dataclass
class OrderPage:
    rows: list[tuple[Order, Payment | None]]
    total: int
    page: int
    pages: int
    totals: list[tuple[str, int, int]] = field(default_factory=list)  # currency, count, sum


def order_page(f: OrderFilter, page: int = 1, per_page: int = PAGE_SIZE) -> OrderPage:
    """One page of the filtered orders, newest first, with the filtered set's totals per currency."""
    conditions = _conditions(f)
    totals = [tuple(r) for r in db.session.execute(
        select(Order.currency, func.count(), func.sum(Order.total))
        .where(*conditions).group_by(Order.currency).order_by(Order.currency)
    )]
    total = sum(count for _, count, _ in totals)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    # The page's ids first (an index walk), then their main payments: the correlated
    # subquery runs for the page's rows only, not for every row skipped by OFFSET.
    ids = (select(Order.id).where(*conditions).order_by(Order.created_at.desc(), Order.id.desc())
           .limit(per_page).offset((page - 1) * per_page).subquery())
    stmt = (
        select(Order, Payment)
        .join(ids, ids.c.id == Order.id)
        .outerjoin(Payment, Payment.id == _main_payment_id())
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    rows = [(order, payment) for order, payment in db.session.execute(stmt)]
    return OrderPage(rows, total, page, pages, [(c, n, int(s or 0)) for c, n, s in totals])


# CSV export

def _safe(text: str | None) -> str:
    """Customer-typed text cannot start a spreadsheet formula."""
    return safe_cell(text)


def _iso(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else ""


def _items(order_ids: list[int]) -> dict[int, str]:
    """Each order's lines as one cell: "2 × Chemise kitenge (M); 1 × Café du Rwanda" (one query a batch)."""
    found: dict[int, list[str]] = {}
    rows = db.session.execute(select(OrderLine.order_id, OrderLine.quantity, OrderLine.name, OrderLine.variant_name)
                              .where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id))
    for order_id, quantity, name, variant in rows:
        found.setdefault(order_id, []).append(f"{quantity} × {name} ({variant})" if variant else f"{quantity} × {name}")
    return {order_id: "; ".join(lines) for order_id, lines in found.items()}


def csv_rows(f: OrderFilter) -> Iterator[str]:
    """The filtered orders as CSV text, a batch of lines at a time (constant memory)."""
    stmt = (
        select(Order.id, Order.reference, Order.created_at, Order.paid_at, Order.customer_name,
               Order.customer_email, Order.customer_phone, Order.currency, Order.total,
               Order.status, Payment.gateway, Payment.gateway_ref, Payment.reference,
               Order.delivery_method, Order.delivery_label, Order.delivery_fee, Order.fulfilment_status,
               Order.amount_received, Order.amount_refunded, Order.discount, Order.promo_code,
               Order.payment_method)
        .outerjoin(Payment, Payment.id == _main_payment_id())
        .where(*_conditions(f))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .execution_options(yield_per=CSV_BATCH)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for partition in db.session.execute(stmt).partitions():
        items = _items([row[0] for row in partition])
        for (order_id, ref, created, paid, name, email, phone, currency, total, status,
             gateway, gateway_ref, payment_ref, method, place, fee, fulfilment, received, refunded,
             discount, code, payment_method) in partition:
            writer.writerow([ref, _iso(created), _iso(paid), _safe(name), _safe(email), phone,
                             currency, str(to_major(total, currency)), status, gateway or "",
                             gateway_ref or "", payment_ref or "", method or "", _safe(place),
                             str(to_major(fee or 0, currency)), fulfilment,
                             str(to_major(received or 0, currency)), str(to_major(refunded or 0, currency)),
                             str(to_major(discount or 0, currency)), code or "", _safe(items.get(order_id, "")),
                             payment_method])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


# order detail

def order_detail(order_id: int) -> Order | None:
    """An order with its lines, attempts and their logs loaded in a few queries."""
    return db.session.scalar(
        select(Order).where(Order.id == order_id).options(
            selectinload(Order.lines).selectinload(OrderLine.product),
            selectinload(Order.payments).selectinload(Payment.events),
        )
    )


def order_log(order: Order) -> list[PaymentEvent]:
    """Order-level entries: the merchant's actions and notes that concern no single
    attempt, and rejected callbacks naming one of its payments."""
    own = select(PaymentEvent).where(PaymentEvent.order_id == order.id, PaymentEvent.payment_id.is_(None))
    refs = [p.reference for p in order.payments]
    events = list(db.session.scalars(own))
    if refs:
        rejected = db.session.scalars(
            select(PaymentEvent).where(
                PaymentEvent.payment_id.is_(None), PaymentEvent.kind == "callback",
                PaymentEvent.created_at >= order.created_at,
                or_(*[PaymentEvent.payload.contains(ref) for ref in refs],
                    *[PaymentEvent.headers.contains(ref) for ref in refs]),
            )
        )
        events.extend(rejected)
    return sorted(events, key=lambda e: (e.created_at, e.id))
