"""A customer's journeys in a real browser, gateway by gateway (issue 11)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import only_order


def add_first_product_to_cart(page, market: str | None = None) -> None:
    """Browse: home → (market) → product page → add to cart → cart."""
    page.goto("/")
    if market:
        page.select_option("#currency", market)
        page.get_by_role("button", name="Change").click()
        expect(page.locator("#currency")).to_have_value(market)
    page.get_by_role("link", name="Café du Rwanda").first.click()
    expect(page.get_by_role("heading", name="Café du Rwanda")).to_be_visible()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator("#cart-count")).to_have_text("2")


def fill_checkout(page, gateway_label: str) -> None:
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("Phone (with country code)").fill("+226 70 12 34 56")
    page.get_by_label(gateway_label).check()
    page.get_by_role("button", name="Pay now").click()


def expect_paid(page) -> None:
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
    expect(page.get_by_role("heading", name="Payment received — thank you!")).to_be_visible()


def test_ligdicash_purchase(page, step):
    add_first_product_to_cart(page)
    step(page, "cart")
    fill_checkout(page, "LigdiCash")
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/pay/invoice/"))
    expect(page.locator("#sim-amount")).to_have_text("9 000 F CFA")
    step(page, "gateway")
    page.get_by_label("Numéro Mobile Money").fill("22670000000")
    page.get_by_role("button", name="Payer").click()
    expect_paid(page)
    step(page, "paid")
    expect(page.locator("#cart-count")).to_have_text("0")


def test_ligdicash_decline_then_retry(page, ctx):
    add_first_product_to_cart(page)
    fill_checkout(page, "LigdiCash")
    page.get_by_role("button", name="Simuler un refus").click()
    expect(page.get_by_role("heading", name="The payment did not go through")).to_be_visible()
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name="Try again").click()
    page.get_by_label("Numéro Mobile Money").fill("22670000000")
    page.get_by_role("button", name="Payer").click()
    expect_paid(page)
    assert [p.status for p in only_order().payments] == ["failed", "succeeded"]


def test_ligdicash_cancel_from_the_hosted_page(page):
    add_first_product_to_cart(page)
    fill_checkout(page, "LigdiCash")
    page.get_by_role("button", name="Annuler").click()
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible()
    expect(page.get_by_text("You cancelled the payment. Nothing was charged")).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()


def test_payunit_purchase_comes_back_through_the_callback_url(page, step):
    """PayUnit sends the browser to callback_url after paying (seed 003): the shop's landing
    re-checks and shows the order page, paid."""
    add_first_product_to_cart(page, market="XAF")
    fill_checkout(page, "PayUnit")
    expect(page).to_have_url(re.compile(r"/_sim/payunit/invoice/"))
    step(page, "gateway")
    page.get_by_label("MTN / Orange Money number").fill("677000000")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orders/[\w-]+$"))  # back through /payments/callback/…
    expect_paid(page)


def test_my_orders_keeps_the_order_reachable(page):
    add_first_product_to_cart(page, market="RWF")
    fill_checkout(page, "IremboPay")  # a gateway that does not bring the customer back
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    page.goto("/")
    page.get_by_role("link", name="My orders").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name="Pay on IremboPay")).to_be_visible()


def test_checkout_form_errors_are_shown_on_the_page(page):
    add_first_product_to_cart(page)
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Invalid email address.")).to_be_visible()
    expect(page.get_by_text("Choose a payment method.")).to_be_visible()


def test_phone_sized_purchase(phone_page, step):
    page = phone_page
    add_first_product_to_cart(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the cart page scrolls sideways on a phone ({width}px)"
    fill_checkout(page, "LigdiCash")
    step(page, "gateway")
    page.get_by_label("Numéro Mobile Money").fill("22670000000")
    page.get_by_role("button", name="Payer").click()
    expect_paid(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
