"""Issue 28, after the sale, from the dashboard: refunds (full, by amount, by line; never more
than was received), cancelling unpaid and paid orders (a reason, stock back per line), money
that arrives after a cancel, and where refunds show (CSV, net revenue, the daily summary)."""
from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from core.money import format_money
from extensions import db
from mail import outbox as mail
from merchant import reports
from models import Order, OutboxEmail, PaymentEvent, Product, Refund, utcnow
from orders import fulfilment
from tests.admin.conftest import EMAIL, text_of
from tests.helpers import only_order, stock_of

WAX, SOAP = "pagne-wax-6-yards", "savon-noir"


@pytest.fixture(autouse=True)
def empty_mailbox():
    mail.MEMORY.clear()
    yield
    mail.MEMORY.clear()


def paid_two_line_order(shopper) -> Order:
    """2 × wax print and 3 × black soap, paid on LigdiCash's (simulated) page."""
    shopper.add_to_cart(WAX, 2)
    shopper.add_to_cart(SOAP, 3)
    shopper.on_gateway_page(shopper.checkout(), "pay")
    db.session.expire_all()
    order = only_order()
    assert order.status == "paid" and len(order.lines) == 2
    return order


def xof(amount: int) -> str:
    """An amount as the pages' text reads (Babel's narrow spaces as plain ones, like text_of)."""
    return re.sub(r"\s+", " ", format_money(amount, "XOF", "en"))


def flashed(admin, response) -> str:
    return text_of(admin.get(response.headers["Location"]))


def test_paid_order_records_what_was_received(shopper):
    order = paid_two_line_order(shopper)
    assert order.amount_received == order.total and order.amount_refunded == 0 and order.refundable == order.total


def test_refund_by_line_then_amount_then_the_rest(admin, shopper):
    order = paid_two_line_order(shopper)
    wax, soap = order.lines
    page = f"/admin/orders/{order.reference}"
    # one soap, by line, paid back by mobile money with its transaction id
    done = admin.post(page + "/refund", {f"qty-{soap.id}": "1", "method": "mobile_money",
                                         "reference": "MP240611.1234.A56789"}, csrf_from=page)
    assert f"Refund of {xof(soap.unit_price)} recorded" in flashed(admin, done)
    db.session.expire_all()
    assert order.status == "paid" and order.amount_refunded == soap.unit_price and order.partly_refunded
    refund = db.session.scalars(select(Refund)).one()
    assert (refund.amount, refund.method, refund.reference, refund.lines, refund.actor) == (
        soap.unit_price, "mobile_money", "MP240611.1234.A56789", f"{soap.id}x1", EMAIL)
    event = db.session.scalars(select(PaymentEvent).where(PaymentEvent.order_id == order.id,
                                                          PaymentEvent.kind == "refund")).one()
    assert event.actor == EMAIL and "refund 1500 XOF by mobile_money (MP240611.1234.A56789)" in event.note
    note = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "refunded")).one()
    assert format_money(1500, "XOF", "en") in note.body_text and "mobile money" in note.body_text
    assert "MP240611.1234.A56789" in note.body_text
    shown = text_of(admin.get(page))
    assert "partly refunded" in shown and "MP240611.1234.A56789" in shown
    # more soap than is left to refund: refused, nothing recorded
    too_many = admin.post(page + "/refund", {f"qty-{soap.id}": "3", "method": "cash"}, csrf_from=page)
    assert "At most 2 of" in flashed(admin, too_many)
    # an amount, typed as the merchant would
    admin.post(page + "/refund", {"amount": "1 000", "method": "cash"}, csrf_from=page)
    db.session.expire_all()
    assert order.amount_refunded == soap.unit_price + 1000 and order.status == "paid"
    # the rest in one go: the order is refunded, through the state owner
    rest = order.refundable
    admin.post(page + "/refund", {"full": "y", "method": "bank_transfer"}, csrf_from=page)
    db.session.expire_all()
    assert order.status == "refunded" and order.amount_refunded == order.amount_received
    assert [r.amount for r in order.refunds] == [soap.unit_price, 1000, rest]
    moved = db.session.scalars(select(PaymentEvent).where(PaymentEvent.order_id == order.id,
                                                          PaymentEvent.kind == "transition",
                                                          PaymentEvent.status_after == "refunded")).one()
    assert moved.actor == EMAIL and "refunded in full" in moved.note
    assert len(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "refunded")).all()) == 3
    nothing_left = admin.post(page + "/refund", {"amount": "1", "method": "cash"}, csrf_from=page)
    assert "Nothing is left to refund" in flashed(admin, nothing_left)


def test_refund_never_more_than_received_and_bad_input_is_a_form_error(admin, shopper):
    order = paid_two_line_order(shopper)
    page = f"/admin/orders/{order.reference}"
    cases = [
        ({"amount": str(order.total + 1), "method": "cash"}, f"At most {xof(order.total)} can still be refunded"),
        ({"amount": "12.5", "method": "cash"}, "XOF amounts have at most 0 decimal place(s)."),
        ({"amount": "abc", "method": "cash"}, "Write an amount in XOF"),
        ({"amount": "0", "method": "cash"}, "The amount must be above zero."),
        ({"amount": "100", "full": "y", "method": "cash"}, "one of the three"),
        ({"method": "cash"}, "one of the three"),
        ({"amount": "100", "method": "bitcoin"}, "Not a valid choice"),
        ({"qty-999999": "1", "method": "cash"}, "Choose lines of this order"),
        ({f"qty-{order.lines[0].id}": "-1", "method": "cash"}, "whole numbers"),
    ]
    for data, message in cases:
        response = admin.post(page + "/refund", data, csrf_from=page)
        assert response.status_code == 303, data
        assert message in flashed(admin, response), data
    db.session.expire_all()
    assert order.amount_refunded == 0 and order.status == "paid"
    assert db.session.scalars(select(Refund)).all() == []


def test_the_database_refuses_refunding_more_than_received(shopper, app):
    order = paid_two_line_order(shopper)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Order).where(Order.id == order.id)
                           .values(amount_refunded=Order.amount_received + 1))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE orders SET amount_refunded = -1 WHERE id = :id"), {"id": order.id})
        db.session.flush()
    db.session.rollback()


def test_cancel_a_paid_order_with_a_reason_and_stock_back_for_chosen_lines(admin, shopper):
    wax_before, soap_before = stock_of(WAX), stock_of(SOAP)
    order = paid_two_line_order(shopper)
    wax, soap = order.lines
    page = f"/admin/orders/{order.reference}"
    no_reason = admin.post(page + "/cancel", {"restock_offered": "1", "restock": [str(wax.id)]}, csrf_from=page)
    assert "Say why this paid order is cancelled" in flashed(admin, no_reason)
    db.session.expire_all()
    assert order.status == "paid"
    done = admin.post(page + "/cancel", {"reason": "Out of black soap, sorry", "restock_offered": "1",
                                         "restock": [str(wax.id)]}, csrf_from=page)
    assert f"stock back for 1 line(s); {xof(order.total)} received, to refund" in flashed(admin, done)
    db.session.expire_all()
    assert order.status == "cancelled" and order.cancel_reason == "Out of black soap, sorry"
    assert stock_of(WAX) == wax_before and stock_of(SOAP) == soap_before - 3  # the soap was not put back
    event = db.session.scalars(select(PaymentEvent).where(
        PaymentEvent.order_id == order.id, PaymentEvent.kind == "transition",
        PaymentEvent.status_after == "cancelled", PaymentEvent.payment_id.is_(None))).one()
    assert event.actor == EMAIL and "paid → cancelled" in event.note and "stock released for 1 of 2" in event.note
    # the customer sees why, and that the money comes back
    customer = text_of(shopper.get(f"/orders/{order.token}"))
    assert "Out of black soap, sorry" in customer and "will be refunded to you" in customer
    # the merchant refunds it: it stays cancelled, fully refunded
    admin.post(page + "/refund", {"full": "y", "method": "mobile_money", "reference": "TX-1"}, csrf_from=page)
    db.session.expire_all()
    assert order.status == "cancelled" and order.amount_refunded == order.amount_received == order.total
    assert f"We have refunded {xof(order.total)} of the {xof(order.total)} you paid." in text_of(
        shopper.get(f"/orders/{order.token}"))


def test_cancel_without_choice_puts_every_line_back_and_shipped_orders_cannot_be_cancelled(admin, shopper):
    wax_before = stock_of(WAX)
    shopper.buy(WAX, 2)
    order = only_order()
    assert admin.post(f"/admin/orders/{order.reference}/cancel").status_code == 303  # the attention page's button
    db.session.expire_all()
    assert order.status == "cancelled" and stock_of(WAX) == wax_before and order.payments[0].status == "cancelled"

    shopper.add_to_cart(WAX, 1)
    shopper.on_gateway_page(shopper.checkout(delivery=_home(), delivery_city="Ouaga 2000",
                                                        delivery_address="Secteur 15, portail bleu"), "pay")
    paid = db.session.scalars(select(Order).where(Order.status == "paid")).one()
    page = f"/admin/orders/{paid.reference}"
    for action in ("preparing", "shipped"):
        admin.post(page + "/fulfil", {"action": action}, csrf_from=page)
    refused = admin.post(page + "/cancel", {"reason": "changed my mind"}, csrf_from=page)
    assert "cancelling it is not offered here" in flashed(admin, refused)
    db.session.expire_all()
    assert paid.status == "paid"


def _home() -> str:
    from models import DeliveryZone

    zone = db.session.scalars(select(DeliveryZone).where(DeliveryZone.currency == "XOF")).first()
    return f"zone:{zone.id}:{zone.fee}"


def test_a_payment_after_a_cancel_is_flagged_and_kept_to_refund(admin, shopper):
    redirect = shopper.buy(WAX, 1)
    order = only_order()
    payment = order.payments[0]
    gateway_page = redirect.headers["Location"]
    # the merchant cancels while the customer is still on the gateway's page (the gateway, asked
    # first, says pending: nothing paid yet), which ends the attempt …
    admin.post(f"/admin/orders/{order.reference}/cancel", {"reason": "customer called to cancel"})
    db.session.expire_all()
    assert order.status == "cancelled" and payment.status == "cancelled"
    # … then the customer pays anyway: recorded and flagged, never silently kept or lost
    shopper.get(gateway_page)
    shopper.http.post(gateway_page, data={"action": "pay", "phone": "22670000000"}, timeout=15)
    deadline = time.monotonic() + 15  # LigdiCash is not asked twice within 3 s: the callback's
    while time.monotonic() < deadline:  # confirmation waits for the cancel's check to be old enough
        db.session.expire_all()
        if payment.status == "succeeded":
            break
        time.sleep(0.2)
    assert payment.status == "succeeded" and payment.attention_kind == "paid_closed"
    assert order.status == "cancelled" and order.amount_received == order.total
    admin_page = text_of(admin.get(f"/admin/orders/{order.reference}"))
    assert f"{xof(order.total)} to refund" in admin_page and "Record a refund" in admin_page
    assert "will be refunded to you" in text_of(shopper.get(f"/orders/{order.token}"))
    assert "order already cancelled: refund or accept" in text_of(admin.get("/admin/attention"))


def test_reconciliation_finds_a_payment_made_after_a_cancel_whose_callback_never_came(admin, shopper, app):
    from payments.reconcile import reconcile_once
    from simulator.state import STATE
    from tests.helpers import let_pacing_pass

    STATE.set_faults("ligdicash", callbacks="none")
    redirect = shopper.buy(WAX, 1)
    order = only_order()
    admin.post(f"/admin/orders/{order.reference}/cancel", {"reason": "no answer from the customer"})
    shopper.get(redirect.headers["Location"])
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "phone": "22670000000"}, timeout=15)
    db.session.expire_all()
    assert order.payments[0].status == "cancelled"  # nothing told the shop yet
    let_pacing_pass()
    with app.app_context():
        assert reconcile_once().paid == 1
    db.session.expire_all()
    payment = order.payments[0]
    assert payment.status == "succeeded" and payment.attention_kind == "paid_closed"
    assert order.status == "cancelled" and order.amount_received == order.total


def test_refunds_show_in_the_csv_net_revenue_and_the_daily_summary(admin, shopper, app):
    order = paid_two_line_order(shopper)
    page = f"/admin/orders/{order.reference}"
    admin.post(page + "/refund", {"amount": "5000", "method": "cash", "reference": "caisse-12"}, csrf_from=page)
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/orders.csv").text)))
    assert [(r["reference"], r["received"], r["refunded"]) for r in rows] == [(order.reference, "34500", "5000")]
    revenue = reports.revenue_by_day(days=2)
    assert revenue["XOF"][-1][1] == order.total - 5000
    app.config["MERCHANT_EMAIL"] = "boss@example.bf"
    tomorrow = utcnow().replace(hour=8) + timedelta(days=1)
    assert fulfilment.daily_summary(tomorrow) == 1
    summary = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "merchant_summary")).one()
    assert "1 refund recorded yesterday" in summary.body_text
    assert f"{order.reference} · {format_money(5000, 'XOF', 'fr')} · cash · caisse-12 · {EMAIL}" in summary.body_text


def test_whatsapp_link_is_prefilled_in_the_customers_language(admin, shopper):
    order = paid_two_line_order(shopper)
    page = admin.get(f"/admin/orders/{order.reference}").text
    link = page.split('id="whatsapp-customer"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert link.startswith("https://wa.me/22670123456?text=")
    from urllib.parse import parse_qs, urlsplit

    message = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["text"][0]
    assert order.reference in message and order.token in message and "Awa" in message


def test_product_stock_is_never_negative_after_restock(shopper, admin):
    """A cancel that puts stock back adds exactly what the lines held (no double give-back)."""
    order = paid_two_line_order(shopper)
    before = db.session.scalar(select(Product.stock).where(Product.slug == WAX))
    page = f"/admin/orders/{order.reference}"
    admin.post(page + "/cancel", {"reason": "duplicate order"}, csrf_from=page)
    admin.post(page + "/cancel", {"reason": "duplicate order"}, csrf_from=page)
    db.session.expire_all()
    assert db.session.scalar(select(Product.stock).where(Product.slug == WAX)) == before + 2
