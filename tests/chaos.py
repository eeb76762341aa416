"""A storm of customers against every gateway, with duplicated, dropped and delayed
callbacks, forged callbacks interleaved with the genuine ones, and a web worker killed while
its creates hang, then reconciliation; counts what happened to every order.

Used by ``tests/test_chaos.py`` (a small storm in the suite) and by
``bench/chaos.py`` (a bigger one, printed as a table). Real HTTP throughout:
customers are ``requests`` sessions against the live server and the simulator.
"""
from __future__ import annotations

import os
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select

from extensions import db
from models import Order, Payment, PaymentEvent, Product, utcnow
from payments.attempts import open_deadline
from payments.reconcile import reconcile_once
from providers import REGISTRY
from simulator.state import STATE
from tests.dynos import WebDynos, kill_workers

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
    ("forged callbacks before and after the genuine ones", {}),
]
FORGED_PHASE = len(PHASES) - 1
#: How long a customer who paid and never came back watches for the order to be paid in the
#: forged phase: LigdiCash's 3 s pacing window and a second; anything later is "paid late".
PAID_WITHIN_SECONDS = 4.5


def forged_callback(base_url: str, gateway: str, reference: str) -> int:
    """What anyone who knows a payment reference can send: an unsigned "it is paid"."""
    url, body = f"{base_url}/payments/callback/{gateway}", {}
    if gateway == "ligdicash":
        body = {"status": "completed", "custom_data": [
            {"keyof_customdata": "transaction_id", "valueof_customdata": reference}]}
    elif gateway == "fcfpay":
        body = {"success": True, "data": {"type": "deposit", "order_id": reference}}
    elif gateway == "payunit":
        url, body = f"{url}/{reference}", {"status": "SUCCESS"}
    else:  # signed gateways: refused, as they must be
        body = {"data": {"transactionId": reference, "reference": reference, "paymentStatus": "PAID"}}
    return requests.post(url, json=body, timeout=30).status_code


@dataclass
class Outcome:
    token: str = ""
    gateway: str = ""
    intent: str = ""  # pay, walk-away
    paid_at_gateway: bool = False
    #: Forged phase: seconds from paying at the gateway to the order paid (None: not within
    #: PAID_WITHIN_SECONDS, left to the next reconciliation).
    paid_after: float | None = None
    forged: bool = False
    killed: bool = False
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
    forged_paid: int = 0  # forged phase: paid at the gateway, and here within seconds
    forged_late: int = 0  # forged phase: paid at the gateway, here only at reconciliation
    slowest: float = 0.0
    killed: int = 0  # customers whose checkout died with its worker
    killed_paid: int = 0  # of those, paid after submitting again
    errors: list[str] = field(default_factory=list)
    by_gateway: dict[str, int] = field(default_factory=dict)

    def table(self) -> str:
        rows = [("customers", self.customers), ("orders created", self.created), ("paid", self.paid),
                ("pending", self.pending), ("expired (walked away)", self.expired),
                ("LOST (paid at the gateway, not here)", self.lost),
                ("paid without a verified payment", self.unverified_paid),
                ("forged phase: paid within seconds", self.forged_paid),
                ("forged phase: paid only by reconciling", self.forged_late),
                ("forged phase: slowest, seconds", round(self.slowest, 1)),
                ("checkouts killed with their worker", self.killed),
                ("  of those, paid after submitting again", self.killed_paid),
                ("customer-side errors", len(self.errors))]
        rows += [(f"  via {g}", n) for g, n in sorted(self.by_gateway.items())]
        return "\n".join(f"{label:<40} {value:>6}" for label, value in rows)


def _fill_cart(http: requests.Session, base_url: str, gateway: str, product_id: int) -> dict:
    """Market, one product, the checkout page: the form the customer is about to submit."""
    currency, _ = PAY[gateway]
    token = CSRF.search(http.get(f"{base_url}/", timeout=30).text).group(1)
    http.post(f"{base_url}/market", data={"csrf_token": token, "currency": currency}, timeout=30)
    http.post(f"{base_url}/cart/add", timeout=30,
              data={"csrf_token": token, "product_id": product_id, "quantity": 1})
    page = http.get(f"{base_url}/checkout", timeout=30).text
    delivery = DELIVERY.search(page)  # the preselected (free) pickup point
    return {"csrf_token": token, "name": "Storm Customer", "email": "storm@example.com",
            "phone": "+22670000000", "gateway": gateway, "checkout_key": KEY.search(page).group(1),
            "delivery": delivery.group(1) if delivery else ""}


def _customer(base_url: str, gateway: str, product_id: int, intent: str, forged: bool = False) -> Outcome:
    outcome = Outcome(gateway=gateway, intent=intent, forged=forged)
    with requests.Session() as http:
        form = _fill_cart(http, base_url, gateway, product_id)
        response = http.post(f"{base_url}/checkout", timeout=30, allow_redirects=False, data=form)
        if response.status_code != 303:
            outcome.error = f"checkout answered {response.status_code}"
            return outcome
        _pay(http, base_url, outcome, form["checkout_key"], intent, forged)
    return outcome


def _pay(http: requests.Session, base_url: str, outcome: Outcome, key: str, intent: str, forged: bool) -> None:
    """On the gateway's page: pay (or walk away). In the forged phase, forged callbacks land
    before and after the genuine ones and the customer never comes back: the order must be
    paid within seconds all the same."""
    payment = _payment_for(key)
    outcome.token = payment.order.token
    if forged:
        for _ in range(2):
            forged_callback(base_url, payment.gateway, payment.reference)
    if intent != "pay":
        return
    _, form = PAY[outcome.gateway]
    page = http.post(payment.redirect_url, data=form, timeout=30, allow_redirects=False)
    outcome.paid_at_gateway = page.status_code in (200, 302, 303)
    if not forged:
        http.get(f"{base_url}/orders/{outcome.token}", timeout=30)  # back to the order page
        return
    paid_at = time.monotonic()
    forged_callback(base_url, payment.gateway, payment.reference)
    while time.monotonic() - paid_at < PAID_WITHIN_SECONDS:
        db.session.expire_all()
        if db.session.get(Payment, payment.id).status == "succeeded":
            outcome.paid_after = time.monotonic() - paid_at
            return
        time.sleep(0.1)


def _payment_for(key: str) -> Payment:
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.checkout_key == key))
    return order.payments[-1]


def run_storm(app, base_url: str, customers: int = 30, workers: int = 6, seed: int = 7,
              killed: int = 0, dyno_logs: Path | None = None) -> StormReport:
    """Run the storm and reconcile; count created / paid / pending / lost.

    ``killed``: that many more customers submit their checkout to a separate web process (a
    gunicorn "dyno" on the same database, logs in ``dyno_logs``) whose worker is SIGKILLed while
    their creates hang; they submit again to the shop once the gateways' timeouts have passed."""
    rng = random.Random(seed)
    gateways = [g for g in REGISTRY if g in PAY]
    outcomes: list[Outcome] = []
    per_phase = max(1, customers // len(PHASES))
    with app.app_context():
        products = [p for p in db.session.scalars(select(Product).where(Product.active.is_(True)))
                    if not p.options]  # customers add products by id: those without options
        for product in products:
            product.variants[0].stock = product.stock = max(product.stock, (customers + killed) * 2)
        db.session.commit()
        product_ids = [p.id for p in products]
        for number, (_, faults) in enumerate(PHASES):
            for gateway in gateways:
                STATE.set_faults(gateway, **{"callbacks": "both", "callback_delay": 0, **faults})
            plan = [(rng.choice(gateways), rng.choice(product_ids),
                     "pay" if rng.random() < 0.8 else "walk-away", number == FORGED_PHASE)
                    for _ in range(per_phase)]
            with ThreadPoolExecutor(workers) as pool:
                outcomes += pool.map(lambda p: _guarded(app, base_url, *p), plan)
            db.session.remove()
        if killed:
            outcomes += _killed_checkouts(app, base_url, gateways, product_ids, rng, killed,
                                          dyno_logs or Path(tempfile.mkdtemp()))
        time.sleep(1.5)  # let the delayed callbacks land
        reconcile_once(now=utcnow() + timedelta(minutes=app.config["ORDER_EXPIRY_MINUTES"] + 1))
        return _count(outcomes)


def _killed_checkouts(app, base_url: str, gateways: list[str], product_ids: list[int],
                      rng: random.Random, count: int, logs: Path) -> list[Outcome]:
    """Customers whose checkout dies with its web worker mid-create, then who submit again."""
    dynos = WebDynos(logs)
    try:
        url = dynos.start(storm_dyno_env(app, base_url))
        master = dynos.procs[-1]
        browsers = []
        for _ in range(count):
            http = requests.Session()
            gateway = rng.choice(gateways)
            browsers.append((gateway, http, _fill_cart(http, base_url, gateway, rng.choice(product_ids))))
        for gateway in gateways:
            STATE.set_faults(gateway, create="hang", callbacks="both", callback_delay=0)
        keys = [form["checkout_key"] for _, _, form in browsers]
        threads = [threading.Thread(target=_submit_quietly, args=(http, url, form), daemon=True)
                   for _, http, form in browsers]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        while _created(keys) < count and time.monotonic() - started < 10:
            time.sleep(0.02)
        killed = set(_created_keys(keys))
        kill_workers(master)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        dynos.stop()
        for gateway in gateways:
            STATE.set_faults(gateway, create="")
    time.sleep(max(open_deadline(g) for g in gateways) + 0.5)
    outcomes = []
    for gateway, http, form in browsers:
        outcome = Outcome(gateway=gateway, intent="pay", killed=form["checkout_key"] in killed)
        try:
            response = http.post(f"{base_url}/checkout", data=form, timeout=30, allow_redirects=False)
            if response.status_code != 303:
                outcome.error = f"checkout submitted again answered {response.status_code}"
            else:
                _pay(http, base_url, outcome, form["checkout_key"], "pay", False)
        except Exception as exc:  # a storm reports what broke instead of stopping
            outcome.error = f"{type(exc).__name__}: {exc}"
        finally:
            http.close()
        outcomes.append(outcome)
    return outcomes


def storm_dyno_env(app, base_url: str) -> dict[str, str]:
    """A second web process of the storm's shop: the test configuration on the same database,
    the gateways (the simulator) and callbacks on the storm's server."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DYNO": "storm.web", "COMPTOIR_ENV": "testing",
            "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PUBLIC_BASE_URL": base_url,
            "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "8"}


def _submit_quietly(http: requests.Session, url: str, form: dict) -> None:
    """Submit the checkout to the dyno; its worker is killed meanwhile (the request dies)."""
    try:
        http.post(f"{url}/checkout", data=form, timeout=30, allow_redirects=False)
    except requests.RequestException:
        pass


def _created_keys(keys: list[str]) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order.checkout_key).join(Payment).where(
        Order.checkout_key.in_(keys), Payment.status == "created")))


def _created(keys: list[str]) -> int:
    return len(_created_keys(keys))


def _guarded(app, base_url: str, gateway: str, product_id: int, intent: str, forged: bool) -> Outcome:
    with app.app_context():
        try:
            return _customer(base_url, gateway, product_id, intent, forged)
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
        if outcome.forged and outcome.paid_at_gateway:
            if outcome.paid_after is None:
                report.forged_late += 1
            else:
                report.forged_paid += 1
                report.slowest = max(report.slowest, outcome.paid_after)
        if outcome.killed:
            report.killed += 1
            report.killed_paid += order is not None and order.status == "paid"
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
