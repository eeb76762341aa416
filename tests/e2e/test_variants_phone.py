"""Picking a variant on a phone (issue 26), with JavaScript and without: the sold-out size is
shown and cannot be picked, the price follows the size, the cart and the order name it, and the
merchant's variants page fits the phone. ``COMPTOIR_SHOTS=/some/dir`` keeps screenshots there."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from extensions import db
from tests.e2e.conftest import PHONE, Watcher, _finish
from tests.e2e.merchant import sign_in
from tests.e2e.test_checkout_layout import no_horizontal_scroll, shot
from tests.e2e.test_customer_journeys import expect_paid, go_to_checkout, pay_with_mobile_money
from tests.helpers import only_order
from tests.shop.test_variants import shirt, size


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def phone(browser, base_url, request):
    context = browser.new_context(base_url=base_url, java_script_enabled=request.param, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watcher = Watcher(base_url)
    page.watcher.attach(page)
    page.shot_name = f"phone-{'js' if request.param else 'nojs'}"
    page.js = request.param
    yield page
    _finish(context, page, request)


def test_a_customer_picks_a_size_on_a_phone_and_the_sold_out_one_cannot_be_picked(phone, ctx):
    page = phone
    product = shirt()
    xxl, xl = product.variants[4], product.variants[3]
    xxl.stock, xl.stock = 1, 0  # XXL in stock (its own, higher price); XL sold out
    product.stock = sum(v.stock for v in product.variants)
    db.session.commit()

    page.goto("/products/kitenge-chemise")
    expect(page.get_by_role("heading", name="Chemise kitenge")).to_be_visible()
    sold_out = page.get_by_role("radio", name=re.compile(r"^XL "))
    expect(sold_out).to_be_disabled()
    expect(page.locator("label.variant.sold-out")).to_contain_text("Sold out")
    expect(page.get_by_role("radio", name=re.compile(r"^S"))).to_be_checked()
    no_horizontal_scroll(page)
    shot(page, "variant-product")

    page.locator("label.variant", has_text="XXL").click()  # a tap on the chip
    expect(page.get_by_role("radio", name=re.compile(r"^XXL"))).to_be_checked()
    if page.js:  # the price and stock follow the size without a reload
        expect(page.locator("#variant-price")).to_have_text(re.compile(r"13\s500"))
        expect(page.locator("#variant-stock")).to_have_text("1 in stock")
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator("table.cart")).to_contain_text("XXL")
    expect(page.locator("#cart-total")).to_have_text(re.compile(r"13\s500"))
    no_horizontal_scroll(page)
    shot(page, "variant-cart")

    go_to_checkout(page)
    expect(page.locator(".summary")).to_contain_text("Chemise kitenge (XXL)")
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.locator("#sim-amount")).to_have_text(re.compile(r"13\s500"))
    pay_with_mobile_money(page)
    expect_paid(page)
    expect(page.locator("body")).to_contain_text("Chemise kitenge (XXL)")
    line = only_order().lines[0]
    assert (line.variant_name, line.unit_price) == ("XXL", 13500)
    assert size("XXL").stock == 0


def test_the_variants_page_fits_a_phone(phone_page, app, ctx):
    page = phone_page
    sign_in(page, app)
    page.goto(f"/admin/products/{shirt().id}/variants")
    expect(page.get_by_role("heading", name=re.compile("Variants of"))).to_be_visible()
    expect(page.locator("#variant-row-0 input[name='v-0-option1']")).to_have_value("S")
    no_horizontal_scroll(page)
    page.locator("#v-1-stock").fill("9")
    page.get_by_role("button", name="Save the variants").click()
    expect(page.locator(".flashes")).to_contain_text("saved")
    assert size("M").stock == 9
    page.locator("#v-1-option1").fill("S")  # the same combination twice: said on the page, nothing saved
    page.get_by_role("button", name="Save the variants").click()
    expect(page.locator("#variants-error")).to_contain_text("Row 2")
    no_horizontal_scroll(page)
    assert size("M").stock == 9
