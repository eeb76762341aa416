"""A storm of customers against every gateway, with duplicated, dropped and delayed
callbacks, then reconciliation; counts what happened to every order.

Used by ``tests/test_chaos.py`` (a small storm in the suite) and by
``bench/chaos.py`` (a bigger one, printed as a table). Real HTTP throughout:
customers are ``requests`` sessions against the live server and the simulator.
"""
from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from sqlalchemy import select

from extensions import db
from models import Order, Payment, PaymentEvent, Product, utcnow
from payments.reconcile import reconcile_once
from providers import REGISTRY
from simulator.state import STATE

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
KEY = re.compile(r'name="checkout_key" type="hidden" value="([^"]+)"')
DELIVERY = re.compile(r'<input checked [^>]*name="delivery" type="radio" value="([^"]+)"')

#: How a customer pays on each simulated gateway's page: market, then the form.
PAY = {
    "ligdicash": ("XOF", {"action": "pay", "phone": "22670000000"}),
    "payunit": ("XAF", {"action": "pay", "phone": "677000000"}),
    "irembopay": ("RWF", {"action": "pay", "method": "MTN_MOMO", "phone": "0781234567"}),
    "paycashless": ("NGN", {"action": "pay"}),
    "fcfpay": ("USD", {"action": "pay", "coin": "USDT"}),
}
#: The storm's phases: which callback fault every gateway plays in each.
PHASES = [
    ("normal (LigdiCash duplicates by itself)", {}),
    ("callbacks dropped", {"callbacks": "none"}),
    ("callbacks delayed 1 s", {"callback_delay": 1}),
]


@dataclass
class Outcome:
    token: str = ""
    gateway: str = ""
    intent: str = ""  # pay, walk-away
    paid_at_gateway: bool = False
    error: str = ""


@dataclass
class StormReport:
    customers: int = 0
    created: int = 0
    paid: int = 0
    pending: int = 0
    expired: int = 0
    lost: int = 0
    unverified_paid: int = 0
    errors: list[str] = field(default_factory=list)
    by_gateway: dict[str, int] = field(default_factory=dict)

    def table(self) -> str:
        rows = [("customers", self.customers), ("orders created", self.created), ("paid", self.paid),
                ("pending", self.pending), ("expired (walked away)", self.expired),
                ("LOST (paid at the gateway, not here)", self.lost),
                ("paid without a verified payment", self.unverified_paid),
                ("customer-side errors", len(self.errors))]
        rows += [(f"  via {g}", n) for g, n in sorted(self.by_gateway.items())]
        return "\n".join(f"{label:<40} {value:>6}" for label, value in rows)


def _customer(base_url: str, gateway: str, product_id: int, intent: str) -> Outcome:
    outcome = Outcome(gateway=gateway, intent=intent)
    currency, form = PAY[gateway]
    with requests.Session() as http:
        token = CSRF.search(http.get(f"{base_url}/", timeout=30).text).group(1)
        http.post(f"{base_url}/market", data={"csrf_token": token, "currency": currency}, timeout=30)
        http.post(f"{base_url}/cart/add", timeout=30,
                  data={"csrf_token": token, "product_id": product_id, "quantity": 1})
        page = http.get(f"{base_url}/checkout", timeout=30).text
        key = KEY.search(page).group(1)
        delivery = DELIVERY.search(page)  # the preselected (free) pickup point
        response = http.post(f"{base_url}/checkout", timeout=30, allow_redirects=False, data={
            "csrf_token": token, "name": "Storm Customer", "email": "storm@example.com",
            "phone": "+22670000000", "gateway": gateway, "checkout_key": key,
            "delivery": delivery.group(1) if delivery else ""})
        if response.status_code != 303:
            outcome.error = f"checkout answered {response.status_code}"
            return outcome
        payment = _payment_for(key)
        outcome.token = payment.order.token
        if intent == "pay":
            page = http.post(payment.redirect_url, data=form, timeout=30, allow_redirects=False)
            outcome.paid_at_gateway = page.status_code in (200, 302, 303)
            http.get(f"{base_url}/orders/{outcome.token}", timeout=30)  # back to the order page
    return outcome


def _payment_for(key: str) -> Payment:
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.checkout_key == key))
    return order.payments[-1]


def run_storm(app, base_url: str, customers: int = 30, workers: int = 6, seed: int = 7) -> StormReport:
    """Run the storm and reconcile; count created / paid / pending / lost."""
    rng = random.Random(seed)
    gateways = [g for g in REGISTRY if g in PAY]
    outcomes: list[Outcome] = []
    per_phase = max(1, customers // len(PHASES))
    with app.app_context():
        products = list(db.session.scalars(select(Product).where(Product.active.is_(True))))
        for product in products:
            product.stock = max(product.stock, customers * 2)
        db.session.commit()
        product_ids = [p.id for p in products]
        for _, faults in PHASES:
            for gateway in gateways:
                STATE.set_faults(gateway, **{"callbacks": "both", "callback_delay": 0, **faults})
            plan = [(rng.choice(gateways), rng.choice(product_ids),
                     "pay" if rng.random() < 0.8 else "walk-away") for _ in range(per_phase)]
            with ThreadPoolExecutor(workers) as pool:
                outcomes += pool.map(lambda p: _guarded(app, base_url, *p), plan)
            db.session.remove()
        time.sleep(1.5)  # let the delayed callbacks land
        reconcile_once(now=utcnow() + timedelta(minutes=app.config["ORDER_EXPIRY_MINUTES"] + 1))
        return _count(outcomes)


def _guarded(app, base_url: str, gateway: str, product_id: int, intent: str) -> Outcome:
    with app.app_context():
        try:
            return _customer(base_url, gateway, product_id, intent)
        except Exception as exc:  # a storm reports what broke instead of stopping
            return Outcome(gateway=gateway, intent=intent, error=f"{type(exc).__name__}: {exc}")
        finally:
            db.session.remove()


def _count(outcomes: list[Outcome]) -> StormReport:
    db.session.expire_all()
    report = StormReport(customers=len(outcomes))
    orders = {o.token: o for o in db.session.scalars(select(Order))}
    report.created = len(orders)
    for order in orders.values():
        report.paid += order.status == "paid"
        report.pending += order.status == "pending"
        report.expired += order.status == "expired"
        if order.status == "paid" and not _verified(order):
            report.unverified_paid += 1
    for outcome in outcomes:
        if outcome.error:
            report.errors.append(f"{outcome.gateway}: {outcome.error}")
            continue
        report.by_gateway[outcome.gateway] = report.by_gateway.get(outcome.gateway, 0) + 1
        order = orders.get(outcome.token)
        if outcome.paid_at_gateway and (order is None or order.status != "paid"):
            report.lost += 1
    return report


def _verified(order: Order) -> bool:
    """A paid order has a succeeded payment whose success came from a verified source."""
    return any(
        payment.status == "succeeded" and db.session.scalar(
            select(PaymentEvent.id).where(PaymentEvent.payment_id == payment.id,
                                          PaymentEvent.status_after == "succeeded",
                                          PaymentEvent.verified.is_(True)).limit(1)) is not None
        for payment in order.payments
    )
