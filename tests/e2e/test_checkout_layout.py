"""Checkout and order page at phone and desktop sizes (issue 32): the address fields only for home
delivery (with and without JavaScript), the delivery progress's current step, and IremboPay's
"come back to this tab" page. ``COMPTOIR_SHOTS=/some/dir`` also keeps screenshots there."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from extensions import db
from orders.fulfilment import advance
from tests.e2e.conftest import PHONE, Watcher, _finish
from tests.e2e.test_customer_journeys import add_first_product_to_cart, go_to_checkout
from tests.e2e.test_delivery_journeys import home_delivery_purchase
from tests.helpers import only_order

SIZES = {"phone": PHONE, "desktop": {"viewport": {"width": 1280, "height": 800}}}
HOME = re.compile("Home delivery: Ouagadougou centre")
PICKUP = re.compile("Pickup: ")


@pytest.fixture(params=[(size, js) for size in SIZES for js in (True, False)],
                ids=lambda p: f"{p[0]}-{'js' if p[1] else 'nojs'}")
def sized_page(browser, base_url, request):
    size, js = request.param
    context = browser.new_context(base_url=base_url, java_script_enabled=js, **SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watcher = Watcher(base_url)
    page.watcher.attach(page)
    page.shot_name = f"{size}-{'js' if js else 'nojs'}"
    yield page
    _finish(context, page, request)


def shot(page, name: str) -> None:
    where = os.environ.get("COMPTOIR_SHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(where) / f"{name}-{page.shot_name}.png"), full_page=True)


def no_horizontal_scroll(page) -> None:
    """No sideways scroll, held to the screen's own width (a phone's window grows to an overflowing page)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= min(page.evaluate("window.innerWidth"), page.viewport_size["width"]), (page.url, width)


def test_address_fields_only_for_home_delivery(sized_page, ctx):
    page = sized_page
    add_first_product_to_cart(page)
    go_to_checkout(page)
    address = page.locator("#delivery-address")
    expect(page.get_by_label(PICKUP).first).to_be_checked()  # the default: a free pickup point
    expect(address).to_be_hidden()
    expect(page.get_by_label("City or area")).to_be_hidden()
    no_horizontal_scroll(page)
    shot(page, "checkout-pickup")
    page.get_by_label(HOME).check()
    expect(page.get_by_label("City or area")).to_be_visible()
    expect(page.get_by_label("Street or landmark")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "checkout-home")
    page.get_by_label(PICKUP).first.check()
    expect(address).to_be_hidden()
    page.get_by_label(HOME).check()
    page.get_by_label("LigdiCash").check()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()  # home delivery, no address
    expect(page.get_by_text("Give the city or area")).to_be_visible()
    expect(page.get_by_label(HOME)).to_be_checked()
    expect(page.get_by_label("City or area")).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "checkout-address-error")
    page.get_by_label("City or area").fill("Ouaga 2000")
    page.get_by_label("Street or landmark").fill("Derrière la pharmacie du Progrès, portail bleu")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/pay/invoice/"))
    assert only_order().delivery_address.startswith("Derrière la pharmacie")


@pytest.mark.parametrize("size", SIZES)
def test_delivery_progress_marks_the_current_step(browser, base_url, request, ctx, size):
    context = browser.new_context(base_url=base_url, **SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watcher = Watcher(base_url)
    page.watcher.attach(page)
    page.shot_name = size
    try:
        home_delivery_purchase(page)
        order = only_order()
        assert advance(order, "preparing", "test")
        db.session.commit()
        page.reload()
        steps = page.locator("#delivery .progress li")
        expect(steps).to_have_count(4)
        current = page.locator("#delivery [aria-current=step]")
        expect(current).to_have_count(1)
        expect(current).to_have_text("Preparing")
        looks = steps.evaluate_all("""items => items.map(li => {
            const s = getComputedStyle(li), m = getComputedStyle(li, '::before');
            return [s.fontWeight, s.backgroundColor, s.color, m.content, m.borderStyle].join('|');
        })""")
        done, now, *later = looks
        assert now != done and now not in later, looks
        assert later[0] == later[1] and later[0] != done, looks  # future steps alike, muted
        assert int(now.split("|")[0]) >= 700
        # not colour alone: the marker's shape differs too, and screen readers hear the state
        assert [look.split("|")[3] for look in looks][:2] == ['"✓"', '"●"']
        expect(steps.nth(0)).to_contain_text("(done)")
        expect(steps.nth(2)).to_contain_text("(to come)")
        no_horizontal_scroll(page)
        shot(page, "order-preparing")
    finally:
        _finish(context, page, request)


@pytest.mark.parametrize("size", SIZES)
def test_irembopay_order_page_says_come_back(browser, base_url, request, ctx, size):
    context = browser.new_context(base_url=base_url, **SIZES[size])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.watcher = Watcher(base_url)
    page.watcher.attach(page)
    page.shot_name = size
    try:
        add_first_product_to_cart(page, market="RWF")
        go_to_checkout(page)
        page.get_by_label("Phone (with country code)").fill("+250 781 234 567")
        page.get_by_label("IremboPay").check()
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(page.get_by_role("heading", name="Pay on IremboPay")).to_be_visible()
        expect(page.locator("#come-back")).to_contain_text("come back to this tab")
        order_url = page.url
        expect(page.locator("#order-url")).to_have_value(order_url)
        link = page.locator("#pay-at-gateway")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener")
        no_horizontal_scroll(page)
        shot(page, "order-irembopay")
        with page.expect_popup() as opened:
            link.click()
        gateway = opened.value
        expect(gateway).to_have_url(re.compile(r"/_sim/irembopay/"))
        gateway.get_by_label("Mobile money number (MTN 078/079, Airtel 072/073)").fill("0781234567")
        gateway.get_by_role("button", name=re.compile(r"^Pay ")).click()
        expect(gateway.locator("#sim-paid")).to_be_visible()
        gateway.close()
        # the shop's tab asked by itself and now says paid, without the customer reloading it
        expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=30_000)
        assert page.url == order_url
    finally:
        _finish(context, page, request)
