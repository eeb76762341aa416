"""A customer on a phone applies a promo code and pays through LigdiCash (issue 27): the saving in
the cart and at checkout, the discounted amount on the gateway's page, the order page after."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from extensions import db
from models import PromoCode
from tests.e2e.test_checkout_layout import no_horizontal_scroll, shot
from tests.e2e.test_customer_journeys import expect_paid, go_to_checkout, pay_with_mobile_money
from tests.helpers import only_order


def test_a_phone_customer_applies_a_code_and_pays(phone_page, ctx):
    db.session.add(PromoCode(code="TABASKI10", kind="percent", percent=10, uses=0))
    db.session.commit()
    page = phone_page
    page.shot_name = "phone"
    page.goto("/products/pagne-wax-6-yards")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    page.get_by_label("Promo code").fill("tabaski1O")  # a typo: said, nothing changes
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flashes")).to_contain_text("This code does not exist")
    expect(page.locator("#cart-total")).to_have_text(re.compile(r"30\s000"))
    page.get_by_label("Promo code").fill("tabaski10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flashes")).to_contain_text("you save 3")
    expect(page.locator("#cart-saving")).to_have_text(re.compile(r"−3\s000"))
    expect(page.locator("#cart-total")).to_have_text(re.compile(r"27\s000"))
    no_horizontal_scroll(page)
    shot(page, "promo-cart")

    go_to_checkout(page)
    expect(page.locator("#summary-saving")).to_contain_text("TABASKI10")
    expect(page.locator("#checkout-total")).to_have_text(re.compile(r"27\s000"))
    no_horizontal_scroll(page)
    shot(page, "promo-checkout")
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name=re.compile(r"^Pay 27")).click()
    expect(page.locator("#sim-amount")).to_have_text(re.compile(r"27\s000"))
    pay_with_mobile_money(page)
    expect_paid(page)
    expect(page.locator("#discount-row")).to_contain_text("TABASKI10")
    order = only_order()
    assert (order.discount, order.total, order.status) == (3000, 27000, "paid")
