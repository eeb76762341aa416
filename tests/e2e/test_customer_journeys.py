"""A customer's journeys in a real browser, gateway by gateway (issue 11)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from simulator.state import STATE
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


def go_to_checkout(page) -> None:
    """From the cart: the checkout page, the customer's details typed in."""
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("Phone (with country code)").fill("+226 70 12 34 56")


def fill_checkout(page, gateway_label: str) -> None:
    go_to_checkout(page)
    page.get_by_label(gateway_label).check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def pay_with_mobile_money(page) -> None:
    """On the LigdiCash simulator's payment page: a Burkinabè Mobile Money number, then Payer."""
    page.get_by_label("Numéro Mobile Money").fill("22670000000")
    page.get_by_role("button", name="Payer", exact=True).click()


def expect_paid(page) -> None:
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=15_000)
    expect(page.get_by_role("heading", name="Payment received — thank you!")).to_be_visible()


def test_ligdicash_purchase(page, step):
    add_first_product_to_cart(page)
    step(page, "cart")
    fill_checkout(page, "LigdiCash")
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/pay/invoice/"))
    expect(page.locator("#sim-amount")).to_have_text("9 000 F CFA")
    step(page, "gateway")
    pay_with_mobile_money(page)
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
    pay_with_mobile_money(page)
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
    page.locator("#pay").click()
    expect(page.get_by_text("Invalid email address.")).to_be_visible()
    expect(page.get_by_label("LigdiCash")).to_be_checked()  # the market's only method: preselected
    expect(page.get_by_label("Email")).to_have_accessible_description("Invalid email address.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")


def in_first_screen(page, locator) -> bool:
    """Whether the element is entirely visible without scrolling (the page is at its top)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_phone_pages_put_what_matters_first(phone_page):
    page = phone_page
    page.goto("/")
    assert page.locator(".site-header").bounding_box()["height"] <= 130, "the header eats the screen"
    cards = page.locator(".product-card")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first["y"] == second["y"] and second["x"] > first["x"], "two products per row on a phone"
    page.get_by_role("link", name="Café du Rwanda").first.click()
    assert in_first_screen(page, page.locator(".product-info .price"))
    assert in_first_screen(page, page.get_by_role("button", name="Add to cart"))
    page.get_by_role("button", name="Add to cart").click()
    row = page.locator("table.cart tbody tr").first
    expect(row.locator(".thumb img")).to_be_visible()
    expect(row.locator(".unit")).to_contain_text("Unit price")
    expect(row.locator(".line-total")).to_contain_text("Line total")
    row.get_by_role("button", name="One more Café du Rwanda").click()
    expect(page.locator("#cart-count")).to_have_text("2")
    page.get_by_role("button", name="One less Café du Rwanda").click()
    expect(page.locator("#cart-count")).to_have_text("1")


def test_pay_button_says_it_is_connecting_and_cannot_be_pressed_twice(page):
    add_first_product_to_cart(page)
    page.get_by_role("link", name="Checkout").click()
    expect(page.locator("#pay")).to_have_text("Pay 9\u202f000\xa0F\u202fCFA")
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("Phone (with country code)").fill("+226 70 12 34 56")
    page.get_by_label("LigdiCash").check()
    # hold this one submit in the page (after checkout.js has seen it) to look at the button
    page.evaluate("document.getElementById('checkout-form').addEventListener("
                  "'submit', event => event.preventDefault(), {once: true})")
    page.locator("#pay").click()
    expect(page.locator("#pay")).to_be_disabled()
    expect(page.locator("#pay")).to_have_text("Connecting to the payment provider…")
    page.reload()
    expect(page.locator("#pay")).to_be_enabled()
    STATE.set_faults("ligdicash", create="timeout")  # a gateway that does not answer: back, usable
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("Phone (with country code)").fill("+226 70 12 34 56")
    page.locator("#pay").click()
    expect(page.locator(".flash.error")).to_be_visible()
    expect(page.locator("#pay")).to_be_enabled()


def test_switching_language_at_checkout_keeps_what_was_typed(page):
    add_first_product_to_cart(page)
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_label("Nom et prénom")).to_have_value("Awa Ouédraogo")
    expect(page.get_by_label("E-mail")).to_have_value("awa@example.bf")
    expect(page.get_by_label("LigdiCash")).to_be_checked()
    expect(page.locator(".flash")).to_have_count(1)


def test_waiting_page_updates_itself_when_the_payment_lands(page, ctx):
    add_first_product_to_cart(page)
    fill_checkout(page, "LigdiCash")
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/"))
    waiting = page.context.new_page()
    waiting.watcher = page.watcher
    waiting.goto(f"/orders/{only_order().token}")
    expect(waiting.get_by_role("heading", name="Waiting for your payment")).to_be_visible()
    with waiting.expect_request(re.compile(r"/status\.json$"), timeout=8_000):
        pass  # the first poll, five seconds in
    pay_with_mobile_money(page)
    expect_paid(page)
    # no click, no navigation by the test: the page reloads itself on a later poll (back-off 5 s → 60 s)
    expect(waiting.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=25_000)


def test_phone_sized_purchase(phone_page, step):
    page = phone_page
    add_first_product_to_cart(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the cart page scrolls sideways on a phone ({width}px)"
    fill_checkout(page, "LigdiCash")
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/pay/invoice/"))  # not mid-navigation
    step(page, "gateway")
    pay_with_mobile_money(page)
    expect_paid(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
