"""Delivery in a real browser (issue 18): home delivery, pickup, and the merchant's fulfilment
journey with the packing slip."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.merchant import sign_in
from tests.e2e.test_customer_journeys import (
    add_first_product_to_cart,
    expect_paid,
    go_to_checkout,
    pay_with_mobile_money,
)
from tests.helpers import only_order


def pay_on_ligdicash(page) -> None:
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/pay/invoice/"))


def home_delivery_purchase(page) -> None:
    """Café du Rwanda ×2 (9 000 F) delivered in Ouagadougou centre (1 000 F), paid with LigdiCash."""
    add_first_product_to_cart(page)
    expect(page.locator("#cart-delivery")).to_contain_text("home delivery from")
    go_to_checkout(page)
    page.get_by_label(re.compile("Home delivery: Ouagadougou centre")).check()
    expect(page.locator("#pay")).to_have_text(re.compile(r"^Pay 10\s000\sF\sCFA$"))  # the fee is in the amount
    page.get_by_label("City or area").fill("Ouaga 2000")
    page.get_by_label("Street or landmark").fill("Derrière la pharmacie du Progrès, portail bleu")
    pay_on_ligdicash(page)
    expect(page.locator("#sim-amount")).to_have_text("10 000 F CFA")
    pay_with_mobile_money(page)
    expect_paid(page)


def test_home_delivery_purchase(page, step, ctx):
    add_first_product_to_cart(page)
    go_to_checkout(page)
    page.get_by_label(re.compile("Home delivery: Ouagadougou centre")).check()
    page.get_by_label("City or area").fill("Ouaga 2000")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()  # no landmark: the form says so
    expect(page.get_by_text("Describe the street or a landmark")).to_be_visible()
    step(page, "address-error")
    page.get_by_label("Street or landmark").fill("Derrière la pharmacie du Progrès, portail bleu")
    pay_on_ligdicash(page)
    expect(page.locator("#sim-amount")).to_have_text("10 000 F CFA")
    pay_with_mobile_money(page)
    expect_paid(page)
    expect(page.locator("#delivery")).to_contain_text("Home delivery: Ouagadougou centre")
    expect(page.locator("#delivery-fee-row")).to_contain_text(re.compile(r"1\s000\sF\sCFA"))
    expect(page.locator("#delivery [aria-current=step]")).to_have_text("Paid")
    step(page, "paid")
    order = only_order()
    assert (order.total, order.delivery_fee, order.fulfilment_status) == (10000, 1000, "unfulfilled")


def test_pickup_purchase(page, step, ctx):
    add_first_product_to_cart(page, market="XAF")
    go_to_checkout(page)
    expect(page.get_by_label(re.compile("Pickup: Point relais Akwa"))).to_be_checked()
    expect(page.locator("#summary-delivery")).to_contain_text("free")
    step(page, "checkout")
    page.get_by_label("PayUnit").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/_sim/payunit/"))  # PayUnit sends the browser back after paying
    order = only_order()
    assert order.delivery_method == "pickup" and order.total == order.subtotal == 9000
    page.goto(f"/orders/{order.token}")
    expect(page.locator("#delivery")).to_contain_text("Pickup at Point relais Akwa")
    expect(page.locator("#delivery")).to_contain_text("derrière la pharmacie du Centre")


def test_merchant_fulfils_with_a_packing_slip(page, app, step):
    home_delivery_purchase(page)
    order_url = page.url
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    sign_in(page, app)
    page.get_by_role("link", name="To fulfil").click()
    expect(page.locator("#to-fulfil")).to_contain_text(reference)
    step(page, "queue")
    page.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Start preparing").click()
    expect(page.locator("#fulfilment")).to_have_attribute("data-fulfilment", "preparing")
    page.get_by_label("Courier").fill("Yobbo Express")
    page.get_by_label("Tracking note").fill("Moto 3, appel avant livraison")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.locator("#fulfilment")).to_have_attribute("data-fulfilment", "shipped")
    expect(page.locator("#no-refund")).to_be_visible()
    expect(page.locator("#order-log")).to_contain_text("merchant@example.bf")
    step(page, "shipped")

    page.get_by_role("link", name="Packing slip").click()
    expect(page.locator("#slip-reference")).to_have_text(reference)
    expect(page.locator("#slip-qr svg")).to_be_visible()
    expect(page.locator("#slip-address")).to_contain_text("Derrière la pharmacie")
    expect(page.locator("#slip-phone")).to_have_text("+22670123456")
    expect(page.locator("#slip-lines")).to_contain_text("Café du Rwanda")
    page.emulate_media(media="print")
    expect(page.locator("nav.no-print")).to_be_hidden()
    step(page, "slip-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    page.go_back()
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.locator("#fulfilment")).to_have_attribute("data-fulfilment", "delivered")

    page.goto(order_url)
    expect(page.locator("#delivery [aria-current=step]")).to_have_text("Delivered")
    expect(page.locator("#tracking")).to_contain_text("Yobbo Express")
