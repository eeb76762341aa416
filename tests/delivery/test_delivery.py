"""Delivery (issue 18): the choice re-checked at checkout, the fee on the order and at every
gateway, fulfilment through orders.states, the customer's and the merchant's e-mails."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from delivery import options as delivery
from delivery.options import DeliveryError
from extensions import db
from mail import outbox as mail
from models import DeliveryZone, Order, OutboxEmail, PaymentEvent, PickupPoint
from orders import fulfilment, states
from orders.states import FulfilmentStatus
from payments.reconcile import reconcile_once
from simulator.state import STATE
from tests.helpers import count, only_order, text_of

ADDRESS = {"delivery_city": "Ouaga 2000", "delivery_address": "Derrière la pharmacie du Progrès, portail bleu"}


def zone(currency: str, name: str | None = None) -> DeliveryZone:
    stmt = select(DeliveryZone).where(DeliveryZone.currency == currency).order_by(DeliveryZone.position)
    if name:
        stmt = stmt.where(DeliveryZone.name == name)
    return db.session.scalars(stmt).first()


def point(currency: str) -> PickupPoint:
    return db.session.scalars(select(PickupPoint).where(PickupPoint.currency == currency)).first()


def home(currency: str, fee: int | None = None, name: str | None = None) -> dict:
    z = zone(currency, name)
    return {"delivery": f"zone:{z.id}:{z.fee if fee is None else fee}", **ADDRESS}


def sent_subjects() -> list[str]:
    return [m["Subject"] for m in mail.MEMORY]


@pytest.fixture(autouse=True)
def empty_mailbox():
    mail.MEMORY.clear()
    yield
    mail.MEMORY.clear()


# the choice, re-checked (unit)

def test_every_market_has_demo_zones_and_a_pickup_point(ctx):
    for currency in ("XOF", "XAF", "RWF", "NGN", "USD"):
        methods = {o.method for o in delivery.options(currency, 1000)}
        assert methods == {"home", "pickup"}, currency


def test_quote_fee_free_threshold_and_other_markets(ctx):
    centre = zone("XOF", "Ouagadougou centre")
    assert delivery.quote("XOF", "home", centre.id, 15000) == 1000
    assert delivery.quote("XOF", "home", centre.id, 50000) == 0  # free from 50 000 F
    assert delivery.quote("XOF", "pickup", point("XOF").id, 15000) == 0
    with pytest.raises(DeliveryError, match="not available for this market"):
        delivery.quote("XAF", "home", centre.id, 15000)
    with pytest.raises(DeliveryError):
        delivery.quote("XOF", "drone", centre.id, 15000)
    centre.active = False
    db.session.commit()
    with pytest.raises(DeliveryError, match="not available"):
        delivery.quote("XOF", "home", centre.id, 15000)


@pytest.mark.parametrize("value", ["", "zone", "zone:x", "moon:1:0", "zone:1:-5", "zone:" + "9" * 40])
def test_malformed_choices_are_refused(ctx, value):
    with pytest.raises(DeliveryError, match="Choose how"):
        delivery.choose("XOF", value, 1000, "Ouaga", "près du marché")


def test_choose_checks_the_fee_seen_and_the_address(ctx):
    z = zone("XOF")
    with pytest.raises(DeliveryError, match="delivery fee is now"):
        delivery.choose("XOF", f"zone:{z.id}:1", 15000, "Ouaga", "près du marché")
    with pytest.raises(DeliveryError) as too_short:
        delivery.choose("XOF", f"zone:{z.id}:{z.fee}", 15000, "O", "près du marché")
    assert too_short.value.field == "city"
    with pytest.raises(DeliveryError) as too_long:
        delivery.choose("XOF", f"zone:{z.id}:{z.fee}", 15000, "Ouaga", "x" * 201)
    assert too_long.value.field == "address"
    chosen = delivery.choose("XOF", f"zone:{z.id}:{z.fee}", 15000, "  Ouaga   2000 ", "près  du marché")
    assert (chosen.method, chosen.fee, chosen.city, chosen.address) == ("home", z.fee, "Ouaga 2000", "près du marché")
    pickup = delivery.choose("XOF", f"point:{point('XOF').id}:0", 15000)
    assert pickup.method == "pickup" and pickup.fee == 0 and "Kwame Nkrumah" in pickup.address


# checkout over HTTP

def test_cart_and_checkout_show_the_delivery_options(shopper):
    shopper.add_to_cart("pagne-wax-6-yards")
    assert "home delivery from" in text_of(shopper.get("/cart"))
    page = text_of(shopper.get("/checkout"))
    assert "Pickup: Boutique Comptoir Ouaga 2000" in page and "Home delivery: Bobo-Dioulasso" in page
    assert "total 16,000 F CFA" in page.replace("\u202f", ",").replace("\xa0", ",") or "total 16" in page


def test_home_delivery_fee_is_its_own_line_and_in_the_total(shopper):
    redirect = shopper.buy("pagne-wax-6-yards", **home("XOF"))
    assert redirect.status_code == 303, text_of(redirect)[:500]
    order = only_order()
    assert (order.subtotal, order.delivery_fee, order.total) == (15000, 1000, 16000)
    assert (order.delivery_method, order.delivery_label) == ("home", "Ouagadougou centre")
    assert order.delivery_city == "Ouaga 2000" and order.delivery_address.startswith("Derrière la pharmacie")
    assert order.fulfilment_status == "not_applicable"  # until paid
    page = text_of(shopper.get(f"/orders/{order.token}"))
    assert "Delivery: Ouagadougou centre" in page and "Derrière la pharmacie" in page


def test_free_threshold_makes_home_delivery_free(shopper):
    shopper.add_to_cart("faso-dan-fani", 2)  # 50 000 F: free from 50 000 F in Ouagadougou centre
    shopper.checkout(**home("XOF", fee=0))
    order = only_order()
    assert order.delivery_fee == 0 and order.total == 50000


@pytest.mark.parametrize("tamper, message", [
    (lambda: home("XOF", fee=1), "The delivery fee is now"),
    (lambda: home("XAF"), "not available for this market"),
    (lambda: {"delivery": f"point:{point('XAF').id}:0"}, "not available for this market"),
    (lambda: {**home("XOF"), "delivery_city": ""}, "city or area"),
    (lambda: {**home("XOF"), "delivery_address": "ici"}, "street or a landmark"),
    (lambda: {**home("XOF"), "delivery_address": "x" * 201}, "Field cannot be longer than 200 characters"),
    (lambda: {"delivery": ""}, "Choose how you want to receive your order"),
])
def test_tampered_or_incomplete_delivery_is_a_form_error(shopper, tamper, message):
    shopper.add_to_cart("pagne-wax-6-yards")
    response = shopper.checkout(**tamper())
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Order) == 0 and not STATE.invoices


# every gateway receives the fee in its amount

def test_ligdicash_receives_the_fee_and_the_order_is_paid(shopper):
    redirect = shopper.buy("pagne-wax-6-yards", **home("XOF"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.amount == 16000
    items = invoice.request["commande"]["invoice"]["items"]
    assert items[-1]["name"] == "Delivery: Ouagadougou centre" and items[-1]["total_price"] == 1000
    shopper.on_gateway_page(redirect)
    db.session.expire_all()
    order = only_order()
    assert order.status == "paid" and order.payments[0].amount == 16000
    assert order.fulfilment_status == "unfulfilled"


def test_payunit_receives_the_fee(shopper):
    shopper.set_market("XAF")
    shopper.buy("pagne-wax-6-yards", gateway="payunit", **home("XAF"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.amount == 15000 + 1500
    assert invoice.request["items"][-1] == {"name": "Delivery: Douala", "amount": 1500, "quantity": 1}


def test_irembopay_bills_the_fee_under_the_default_product_code(shopper):
    shopper.set_market("RWF")
    shopper.buy("cafe-rwanda", gateway="irembopay", **home("RWF"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.amount == 9000 + 2000
    assert invoice.request["paymentItems"] == [{"code": "PC-SIM-SHOP", "quantity": 1, "unitAmount": 11000}]


def test_paycashless_receives_the_fee_as_an_item(shopper):
    shopper.set_market("NGN")
    shopper.buy("pagne-wax-6-yards", gateway="paycashless", **home("NGN"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.amount == 3500000 + 200000
    assert invoice.request["items"][-1]["price"] == 200000


def test_fcfpay_receives_the_fee(shopper):
    shopper.set_market("USD")
    shopper.buy("pagne-wax-6-yards", gateway="fcfpay", **home("USD"))
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.amount == 2500 + 2500 and invoice.request["amount"] == "50.00"
    assert "Delivery: International" in str(list(invoice.request["items"].values())[-1])


# fulfilment, forward only, with its e-mails

def paid_order(shopper, **fields) -> Order:
    shopper.on_gateway_page(shopper.buy("pagne-wax-6-yards", **fields))
    db.session.expire_all()
    order = only_order()
    assert order.status == "paid"
    return order


def test_home_delivery_moves_forward_only_and_mails_once(shopper, app):
    app.config["MERCHANT_EMAIL"] = "boss@example.bf, shop@example.bf"
    order = paid_order(shopper, **home("XOF"))
    merchant = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "merchant_paid")).all()
    assert sorted(e.to_address for e in merchant) == ["boss@example.bf", "shop@example.bf"]
    assert "/admin/orders/" + order.reference in merchant[0].body_text
    assert "Ouagadougou centre" in merchant[0].body_text
    assert not fulfilment.advance(order, "shipped", "merchant@example.com")  # not from unfulfilled
    assert not fulfilment.advance(order, "ready_for_pickup", "merchant@example.com")
    assert fulfilment.advance(order, "preparing", "merchant@example.com")
    assert not fulfilment.advance(order, "ready_for_pickup", "merchant@example.com")  # a home delivery
    assert fulfilment.advance(order, "shipped", "merchant@example.com", "Yobbo Express", "colis 42")
    assert fulfilment.advance(order, "delivered", "merchant@example.com")
    db.session.commit()
    for backwards in ("preparing", "shipped"):
        assert not fulfilment.advance(order, backwards, "merchant@example.com")
    db.session.expire_all()
    assert (order.fulfilment_status, order.courier, order.tracking_note) == ("delivered", "Yobbo Express", "colis 42")
    log = db.session.scalars(select(PaymentEvent).where(
        PaymentEvent.order_id == order.id, PaymentEvent.status_after.in_(("preparing", "shipped", "delivered")))).all()
    assert [(e.status_after, e.actor) for e in log] == [
        ("preparing", "merchant@example.com"), ("shipped", "merchant@example.com"),
        ("delivered", "merchant@example.com")]
    assert "Yobbo Express" in log[1].note
    mail.deliver()
    shipped = [m for m in mail.MEMORY if "on its way" in m["Subject"]]
    assert len(shipped) == 1 and shipped[0]["To"] == "awa@example.bf"
    assert "Yobbo Express" in shipped[0].get_body(("plain",)).get_content()
    assert sum("New paid order" in s for s in sent_subjects()) == 2
    page = text_of(shopper.get(f"/orders/{order.token}"))
    assert "Courier: Yobbo Express" in page and "Delivered" in page


def test_pickup_goes_ready_then_picked_up_with_one_french_email(shopper, app):
    order = paid_order(shopper)  # the preselected pickup point
    assert order.delivery_method == "pickup" and order.total == 15000
    order.language = "fr"
    db.session.commit()
    assert fulfilment.advance(order, "preparing", "m@example.com")
    assert not fulfilment.advance(order, "shipped", "m@example.com")
    assert fulfilment.advance(order, "ready_for_pickup", "m@example.com")
    db.session.commit()
    mail.enqueue(order, "ready_for_pickup")  # a second write is refused by the dedupe key
    db.session.commit()
    assert fulfilment.advance(order, "picked_up", "m@example.com")
    db.session.commit()
    mail.deliver()
    ready = [m for m in mail.MEMORY if "ready" in m["Subject"] or "prête" in m["Subject"]]
    assert len(ready) == 1 and "Boutique Comptoir Ouaga 2000" in ready[0].get_body(("plain",)).get_content()
    assert "prête" in ready[0]["Subject"]


def test_order_without_delivery_stays_not_applicable(app):
    """An order without delivery (placed before delivery existed: the migration's default)
    is paid without entering the "To fulfil" queue."""
    from models import Product
    from orders.lifecycle import Customer, place_order
    from shop.cart import CartLine, PricedCart

    with app.test_request_context():
        product = db.session.scalars(select(Product).where(Product.slug == "cafe-rwanda")).one()
        cart = PricedCart("XOF", [CartLine(product, product.variants[0], 1, 4500, 4500)])
        order = place_order(cart, Customer("Awa", "awa@example.bf", "+22670123456"), "key-1")
        assert states.transition(order, states.OrderStatus.PAID, actor="test", why="test")
        db.session.commit()
        assert order.fulfilment_status == "not_applicable" and order.delivery_method is None
        assert order.total == 4500 and fulfilment.to_fulfil() == []
        assert not fulfilment.advance(order, "preparing", "m@example.com")
        db.session.remove()


def test_daily_summary_once_per_day(shopper, app):
    app.config["MERCHANT_EMAIL"] = "boss@example.bf"
    paid_order(shopper)
    mail.MEMORY.clear()
    day = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    for minutes in (0, 5, 60):
        reconcile_once(day + timedelta(minutes=minutes))
    db.session.expire_all()
    summaries = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "merchant_summary")).all()
    assert len(summaries) == 1 and summaries[0].order_id is None
    assert "2026-11-30" in summaries[0].subject and only_order().reference in summaries[0].body_text
    reconcile_once(day + timedelta(days=1))
    assert count(OutboxEmail) and len(db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.kind == "merchant_summary")).all()) == 2
    assert sum("to fulfil" in s for s in sent_subjects()) == 2


def test_daily_summary_waits_for_its_hour(shopper, app):
    app.config.update(MERCHANT_EMAIL="boss@example.bf", MERCHANT_SUMMARY_HOUR=6)
    paid_order(shopper)
    assert fulfilment.daily_summary(datetime(2026, 11, 30, 5, 59, tzinfo=timezone.utc)) == 0
    assert fulfilment.daily_summary(datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)) == 1


def test_no_merchant_email_configured_writes_none(shopper, app):
    app.config["MERCHANT_EMAIL"] = ""
    paid_order(shopper)
    reconcile_once()
    assert not db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind.like("merchant%"))).all()


def test_fulfilment_table_is_forward_only_and_matches_the_database():
    from models import FULFILMENT_STATUSES

    assert {s.value for s in FulfilmentStatus} == set(FULFILMENT_STATUSES)
    order = list(FulfilmentStatus)
    for source, targets in states.FULFILMENT_TRANSITIONS.items():
        assert all(order.index(t) > order.index(source) for t in targets), source
