"""Issue 27, cash on delivery / pay at pickup: offered only where the merchant enabled it and
under its maximum (re-checked server-side), placed without a gateway, never expired, collected
or refused by the merchant through orders.states, payable online instead, and counted in the
queue, the daily summary, the per-gateway figures and the CSV. Real HTTP throughout."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from extensions import db
from mail import outbox as mail
from merchant import reports
from models import DeliveryZone, Order, OutboxEmail, OutboxSms, Payment, PaymentEvent, PickupPoint, utcnow
from orders import fulfilment
from payments.reconcile import reconcile_once
from simulator.state import STATE
from tests.admin.conftest import EMAIL
from tests.helpers import count, only_order, stock_of, text_of

ADDRESS = {"delivery_city": "Ouaga 2000", "delivery_address": "Derrière la pharmacie du Progrès, portail bleu"}
PAGNE = "pagne-wax-6-yards"  # 15 000 F CFA


def pickup(currency: str = "XOF") -> PickupPoint:
    return db.session.scalars(select(PickupPoint).where(PickupPoint.currency == currency)).first()


def centre() -> DeliveryZone:
    return db.session.scalars(select(DeliveryZone).where(DeliveryZone.name == "Ouagadougou centre")).one()


def enable_cash(place, maximum: int | None = None) -> None:
    place.cash_enabled, place.cash_max = True, maximum
    db.session.commit()


def radio_cash(page: str, value: str) -> str:
    """The data-cash mark of the delivery radio of ``value`` (1: cash accepted with it)."""
    tag = re.search(rf'<input[^>]*value="{re.escape(value)}"[^>]*>', page)
    assert tag, value
    return re.search(r'data-cash="(\d)"', tag.group(0)).group(1)


def to_point(place: PickupPoint) -> dict:
    return {"delivery": f"point:{place.id}:0"}


def to_zone(zone: DeliveryZone) -> dict:
    return {"delivery": f"zone:{zone.id}:{zone.fee}", **ADDRESS}


def cash_order(shopper, slug: str = PAGNE, quantity: int = 1, **delivery) -> Order:
    shopper.add_to_cart(slug, quantity)
    response = shopper.checkout("cash", **(delivery or to_point(pickup())))
    assert response.status_code == 303, text_of(response)[:600]
    order = only_order() if count(Order) == 1 else db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    assert response.headers["Location"].endswith(f"/orders/{order.token}")
    return order


@pytest.fixture(autouse=True)
def empty_mailbox():
    mail.MEMORY.clear()
    yield
    mail.MEMORY.clear()


@pytest.fixture
def texts_on(app, ctx):
    app.config.update(SMS_PROVIDER="africastalking", AFRICASTALKING_USERNAME="", AFRICASTALKING_API_KEY="")
    return app


# offered only where enabled and under the maximum

def test_cash_is_offered_only_where_enabled_and_within_the_maximum(shopper):
    shopper.add_to_cart(PAGNE, 2)  # 30 000 F
    page = shopper.get("/checkout").text
    assert 'value="cash"' not in page  # enabled nowhere yet
    point, zone = pickup(), centre()
    enable_cash(point)
    page = shopper.get("/checkout").text
    assert 'value="cash"' in page and "Cash on delivery / pay at pickup" in page
    assert radio_cash(page, f"point:{point.id}:0") == "1" and radio_cash(page, f"zone:{zone.id}:1000") == "0"
    assert "pay at pickup accepted" in text_of(shopper.get("/checkout"))
    assert "cash on delivery accepted" not in text_of(shopper.get("/checkout"))  # the zone does not take it
    enable_cash(zone, maximum=3_000_000 // 100)  # 30 000 F: the cart (30 000) + 1 000 fee is above
    assert "cash on delivery accepted" not in text_of(shopper.get("/checkout"))
    enable_cash(zone, maximum=31_000)
    assert "cash on delivery accepted" in text_of(shopper.get("/checkout"))
    point.cash_enabled, zone.cash_max = False, 20_000  # neither takes 30 000 F now
    db.session.commit()
    assert 'value="cash"' not in shopper.get("/checkout").text


def test_cash_posted_where_it_is_not_offered_is_refused_and_places_nothing(shopper):
    shopper.add_to_cart(PAGNE, 2)
    before = stock_of(PAGNE)
    response = shopper.checkout("cash")  # nowhere enabled: not even a choice
    assert response.status_code == 400 and count(Order) == 0
    point, zone = pickup(), centre()
    enable_cash(point)
    response = shopper.checkout("cash", **to_zone(zone))  # the zone does not take cash
    assert response.status_code == 400
    assert "Cash is not accepted for this delivery choice" in text_of(response)
    enable_cash(zone, maximum=25_000)
    response = shopper.checkout("cash", **to_zone(zone))  # 31 000 F above its 25 000 F
    assert response.status_code == 400
    assert "Cash is accepted here up to 25 000" in text_of(response).replace("\u202f", " ").replace("\xa0", " ")
    assert count(Order) == 0 and count(Payment) == 0 and stock_of(PAGNE) == before and not STATE.invoices


# placed without a gateway, never expired

def test_a_cash_order_calls_no_gateway_holds_its_stock_and_does_not_expire(shopper, app):
    enable_cash(pickup())
    before = stock_of(PAGNE)
    order = cash_order(shopper, quantity=2)
    assert (order.payment_method, order.status, order.fulfilment_status) == ("cash", "pending", "unfulfilled")
    assert count(Payment) == 0 and not STATE.invoices  # no attempt, no gateway called
    assert stock_of(PAGNE) == before - 2
    page = text_of(shopper.get(f"/orders/{order.token}"))
    assert "Pay 30" in page and "at pickup" in page and pickup().name in page
    assert "Or pay online now" in page
    assert shopper.get("/cart").text.count('name="quantity"') == 0  # the cart was emptied
    confirmation = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "confirmation")).one()
    assert "when you receive it" in confirmation.body_text or "à la réception" in confirmation.body_text
    # a second submit of the same checkout goes to the same order
    again = shopper.post("/checkout", {"name": "Awa", "email": "awa@example.bf", "phone": "+226 70 12 34 56",
                                       "gateway": "cash", "checkout_key": order.checkout_key,
                                       "delivery": f"point:{pickup().id}:0"}, csrf_from="/cart")
    assert again.status_code == 303 and again.headers["Location"].endswith(order.token) and count(Order) == 1
    # long past its reservation: reconciliation leaves it waiting, stock held
    db.session.execute(update(Order).where(Order.id == order.id).values(expires_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    reconcile_once()
    db.session.expire_all()
    assert only_order().status == "pending" and stock_of(PAGNE) == before - 2


# the merchant records the cash

def test_collection_pays_the_order_sends_the_receipt_and_sms_and_is_logged(texts_on, admin, shopper):
    enable_cash(pickup())
    order = cash_order(shopper)
    ref = order.reference
    queue = text_of(admin.get("/admin/fulfil"))
    assert ref in queue and "cash to collect: 15" in queue.replace("\u202f", " ")
    assert "Cash to collect" in text_of(admin.get(f"/admin/orders/{ref}"))
    # before the goods are at the pickup point: not recorded
    early = admin.post(f"/admin/orders/{ref}/collect", {"amount": "15000"}, csrf_from=f"/admin/orders/{ref}")
    assert early.status_code == 303
    assert "ready for pickup) first" in text_of(admin.get(f"/admin/orders/{ref}"))
    db.session.expire_all()
    assert only_order().status == "pending"
    for action in ("preparing", "ready_for_pickup"):
        assert admin.post(f"/admin/orders/{ref}/fulfil", {"action": action},
                          csrf_from=f"/admin/orders/{ref}").status_code == 303
    db.session.expire_all()
    assert only_order().fulfilment_status == "ready_for_pickup"
    assert admin.post(f"/admin/orders/{ref}/collect", {"amount": "15000"},
                      csrf_from=f"/admin/orders/{ref}").status_code == 303
    db.session.expire_all()
    order = only_order()
    assert (order.status, order.amount_received, order.fulfilment_status) == ("paid", 15000, "picked_up")
    assert order.paid_at is not None
    (payment,) = order.payments
    assert (payment.gateway, payment.status, payment.amount_received, payment.attention_kind) == \
        ("cash", "succeeded", 15000, None)
    receipt = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "receipt")).one()
    assert payment.reference in receipt.body_text
    assert {t.kind for t in db.session.scalars(select(OutboxSms))} >= {"received", "paid"}
    actors = {e.actor for e in db.session.scalars(select(PaymentEvent).where(PaymentEvent.order_id == order.id,
                                                                             PaymentEvent.kind == "transition"))}
    assert EMAIL in actors
    assert "Payment received" in text_of(shopper.get(f"/orders/{order.token}"))
    assert ref not in text_of(admin.get("/admin/fulfil"))
    # a second record changes nothing
    admin.post(f"/admin/orders/{ref}/collect", {"amount": "15000"}, csrf_from=f"/admin/orders/{ref}")
    db.session.expire_all()
    assert only_order().amount_received == 15000 and count(Payment) == 1
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "receipt")).all() == [receipt]


def test_a_short_collection_is_recorded_and_flagged(admin, shopper):
    zone = centre()
    enable_cash(zone)
    order = cash_order(shopper, **to_zone(zone))  # 15 000 + 1 000 delivery
    ref = order.reference
    assert order.total == 16000
    for action in ("preparing", "shipped"):
        admin.post(f"/admin/orders/{ref}/fulfil", {"action": action}, csrf_from=f"/admin/orders/{ref}")
    for bad in ("", "abc", "0", "-5"):
        admin.post(f"/admin/orders/{ref}/collect", {"amount": bad}, csrf_from=f"/admin/orders/{ref}")
        db.session.expire_all()
        assert only_order().status == "pending" and count(Payment) == 0, bad
    response = admin.post(f"/admin/orders/{ref}/collect", {"amount": "15 500"}, csrf_from=f"/admin/orders/{ref}")
    assert response.status_code == 303
    db.session.expire_all()
    order = only_order()
    assert (order.status, order.amount_received, order.fulfilment_status) == ("paid", 15500, "delivered")
    payment = order.payments[0]
    assert (payment.attention_kind, payment.attention_amount, payment.attention_expected) == ("partial", 15500, 16000)
    attention = text_of(admin.get("/admin/attention"))
    assert payment.reference in attention or ref in attention


def test_a_refused_order_is_cancelled_and_its_stock_comes_back_once(admin, shopper):
    enable_cash(pickup())
    before = stock_of(PAGNE)
    order = cash_order(shopper, quantity=3)
    ref = order.reference
    assert stock_of(PAGNE) == before - 3
    response = admin.post(f"/admin/orders/{ref}/refuse", {"reason": "Client absent, colis retourné"},
                          csrf_from=f"/admin/orders/{ref}")
    assert response.status_code == 303
    db.session.expire_all()
    order = only_order()
    assert order.status == "cancelled" and stock_of(PAGNE) == before
    assert "Client absent" in text_of(shopper.get(f"/orders/{order.token}"))
    admin.post(f"/admin/orders/{ref}/refuse", {"reason": "again"}, csrf_from=f"/admin/orders/{ref}")
    admin.post(f"/admin/orders/{ref}/collect", {"amount": "45000"}, csrf_from=f"/admin/orders/{ref}")
    db.session.expire_all()
    assert stock_of(PAGNE) == before and only_order().status == "cancelled" and count(Payment) == 0
    assert ref not in text_of(admin.get("/admin/fulfil"))


# paying online instead

def test_a_cash_customer_can_still_pay_online_from_the_order_page(admin, shopper):
    enable_cash(pickup())
    order = cash_order(shopper)
    token = order.token
    page = shopper.get(f"/orders/{token}")
    assert 'id="pay-online"' in page.text
    redirect = shopper.post(f"/orders/{token}/pay", {"gateway": "ligdicash"}, csrf_from=f"/orders/{token}")
    assert redirect.status_code == 303 and len(STATE.invoices) == 1
    # one open attempt rule unchanged: a second "pay" follows the first attempt
    second = shopper.post(f"/orders/{token}/pay", {"gateway": "ligdicash"}, csrf_from=f"/orders/{token}")
    assert second.status_code == 303 and len(STATE.invoices) == 1
    shopper.on_gateway_page(redirect, "pay")
    db.session.expire_all()
    order = only_order()
    assert order.status == "paid" and order.payments[0].gateway == "ligdicash" and not order.cash_due
    # the cash expectation is void: not "cash to collect", and nothing can be collected on it
    assert "cash to collect" not in text_of(admin.get("/admin/fulfil"))
    admin.post(f"/admin/orders/{order.reference}/collect", {"amount": "15000"},
               csrf_from=f"/admin/orders/{order.reference}")
    db.session.expire_all()
    assert only_order().amount_received == 15000 and count(Payment) == 1


# the figures: per-gateway row, CSV, daily summary

def test_reports_csv_and_summary_count_cash(app, admin, shopper):
    enable_cash(pickup())
    collected = cash_order(shopper, quantity=2)
    for action in ("preparing", "ready_for_pickup"):
        admin.post(f"/admin/orders/{collected.reference}/fulfil", {"action": action},
                   csrf_from=f"/admin/orders/{collected.reference}")
    admin.post(f"/admin/orders/{collected.reference}/collect", {"amount": "30000"},
               csrf_from=f"/admin/orders/{collected.reference}")
    refused = cash_order(shopper)
    admin.post(f"/admin/orders/{refused.reference}/refuse", {}, csrf_from=f"/admin/orders/{refused.reference}")
    waiting = cash_order(shopper)
    shopper.on_gateway_page(shopper.buy(PAGNE), "pay")  # one paid online
    db.session.expire_all()
    figures = {g.gateway: g for g in reports.gateway_figures()}
    cash = figures["cash"]
    assert (cash.started, cash.paid, cash.failed, cash.revenue) == (3, 1, 1, {"XOF": 30000})
    assert str(cash.conversion) == "33.3"
    assert figures["ligdicash"].revenue == {"XOF": 15000}
    overview = admin.get("/admin/").text
    assert 'data-gateway="cash"' in overview
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/orders.csv").text)))
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref[collected.reference]["payment_method"] == "cash"
    assert by_ref[collected.reference]["gateway"] == "cash" and by_ref[collected.reference]["received"] == "30000"
    assert by_ref[waiting.reference]["payment_method"] == "cash" and by_ref[waiting.reference]["status"] == "pending"
    assert {r["payment_method"] for r in rows if r["reference"] not in
            (collected.reference, refused.reference, waiting.reference)} == {"gateway"}
    # the daily summary lists the cash still to collect
    app.config.update(MERCHANT_EMAIL="boutique@example.bf", MERCHANT_SUMMARY_HOUR=0)
    assert [o.reference for o in fulfilment.to_fulfil()] == [waiting.reference, only_paid_online()]
    assert fulfilment.daily_summary() == 1
    summary = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "merchant_summary")).one()
    assert waiting.reference in summary.body_text
    assert "15" in summary.body_text and ("cash to collect" in summary.body_text or "à encaisser" in summary.body_text)


def only_paid_online() -> str:
    return db.session.scalars(select(Order.reference).where(Order.payment_method == "gateway")).one()


# the merchant's settings

def test_the_merchant_enables_cash_per_zone_and_point_with_a_maximum(admin, ctx):
    zone = centre()
    data = {"currency": "XOF", "name": zone.name, "fee": "1000", "free_from": "50000", "delay_min_days": "1",
            "delay_max_days": "1", "position": "0", "active": "y", "cash_enabled": "y", "cash_max": "100 000"}
    response = admin.post(f"/admin/delivery/zones/{zone.id}", data, csrf_from=f"/admin/delivery/zones/{zone.id}")
    assert response.status_code == 303
    db.session.expire_all()
    assert (zone.cash_enabled, zone.cash_max) == (True, 100000)
    assert "up to 100" in text_of(admin.get("/admin/delivery"))
    bad = admin.post(f"/admin/delivery/zones/{zone.id}", {**data, "cash_max": "cent"},
                     csrf_from=f"/admin/delivery/zones/{zone.id}")
    assert bad.status_code == 400
    db.session.expire_all()
    assert zone.cash_max == 100000
    point = pickup("NGN")
    form = {"currency": "NGN", "name": point.name, "address": point.address, "opening_hours": "",
            "active": "y", "cash_enabled": "y", "cash_max": "50000.50"}
    assert admin.post(f"/admin/delivery/points/{point.id}", form,
                      csrf_from=f"/admin/delivery/points/{point.id}").status_code == 303
    db.session.expire_all()
    assert (point.cash_enabled, point.cash_max) == (True, 5000050)
    assert admin.post(f"/admin/delivery/points/{point.id}", {**form, "cash_max": ""},
                      csrf_from=f"/admin/delivery/points/{point.id}").status_code == 303
    db.session.expire_all()
    assert (point.cash_enabled, point.cash_max) == (True, None)
