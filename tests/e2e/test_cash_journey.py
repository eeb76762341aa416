"""Cash on delivery in a real browser at phone width (issue 27): the customer chooses cash on
delivery, the merchant ships the order and records the cash, the customer's page shows it paid."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import DeliveryZone, Payment
from tests.e2e.merchant import sign_in
from tests.e2e.test_customer_journeys import add_first_product_to_cart, go_to_checkout
from tests.helpers import only_order


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")


def test_cash_on_delivery_and_collection_at_phone_width(phone_page, app, step, ctx):
    page = phone_page
    zone = db.session.scalars(select(DeliveryZone).where(DeliveryZone.name == "Ouagadougou centre")).one()
    zone.cash_enabled, zone.cash_max = True, 20000  # the merchant takes cash there, up to 20 000 F
    db.session.commit()
    add_first_product_to_cart(page)  # Café du Rwanda × 2: 9 000 F
    go_to_checkout(page)
    cash = page.get_by_label("Cash on delivery / pay at pickup")
    expect(cash).to_be_hidden()  # the preselected pickup point does not take cash
    page.get_by_label(re.compile("Home delivery: Ouagadougou centre")).check()
    expect(cash).to_be_visible()
    expect(page.locator("#delivery")).to_contain_text("cash on delivery accepted")
    page.get_by_label("City or area").fill("Ouaga 2000")
    page.get_by_label("Street or landmark").fill("Derrière la pharmacie du Progrès, portail bleu")
    expect(page.locator("#pay-note")).to_contain_text("You will be sent to the payment page")
    cash.check()
    expect(page.locator("#pay")).to_have_text("Place the order, pay on delivery")
    expect(page.locator("#pay-note")).to_contain_text("Nothing is paid now")  # no gateway page for cash
    no_sideways_scroll(page)
    step(page, "checkout-cash")
    page.locator("#pay").click()
    expect(page.locator("#cash-due h2")).to_have_text(re.compile(r"^Pay 10\s000\sF\sCFA on delivery$"))
    expect(page.locator("#pay-online")).to_be_visible()  # paying online stays possible
    no_sideways_scroll(page)
    step(page, "order-cash-due")
    order_url = page.url
    order = only_order()
    assert (order.payment_method, order.status, order.total) == ("cash", "pending", 10000)
    assert db.session.scalars(select(Payment)).all() == []  # no gateway was asked

    sign_in(page, app)
    page.get_by_role("link", name="To fulfil").click()
    expect(page.locator("#to-fulfil")).to_contain_text(re.compile(r"cash to collect: 10\s000\sF\sCFA"))
    page.get_by_role("link", name=order.reference).click()
    expect(page.locator("#cash-to-collect")).to_be_visible()
    page.get_by_role("button", name="Start preparing").click()
    page.get_by_label("Courier").fill("Moto 3")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator("#fulfilment")).to_have_attribute("data-fulfilment", "shipped")
    expect(page.get_by_label("Amount collected")).to_have_value("10000")
    no_sideways_scroll(page)
    step(page, "merchant-collect")
    page.get_by_role("button", name="Delivered and paid").click()
    expect(page.get_by_text(re.compile(r"Recorded: 10,000 F CFA collected|Recorded: .*collected"))).to_be_visible()
    expect(page.locator("#fulfilment")).to_have_attribute("data-fulfilment", "delivered")
    expect(page.locator("#order-log")).to_contain_text("merchant@example.bf")

    page.goto(order_url)
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#order-status h2")).to_have_text("Payment received — thank you!")
    expect(page.locator("#delivery [aria-current=step]")).to_have_text("Delivered")
    no_sideways_scroll(page)
    step(page, "customer-paid")
    db.session.expire_all()
    order = only_order()
    assert (order.status, order.amount_received, order.payments[0].gateway) == ("paid", 10000, "cash")
