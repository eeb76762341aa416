"""Issue 28 in a real browser: the merchant partly refunds a paid order from the dashboard, the
customer sees it on the order page (and in its history), and the SMS simulator received the
refund text; "Find my order" on another phone. Both at 390 px and 1280 px, never scrolling
sideways. Screenshots of each page at both sizes go to $AFTER_SALE_SHOTS (default
<tmp>/comptoir-after-sale-shots/) to be looked at."""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import OutboxSms
from simulator.state import STATE
from tests.e2e.conftest import PHONE, _finish, _new_page
from tests.e2e.merchant import sign_in
from tests.e2e.test_checkout_layout import no_horizontal_scroll
from tests.e2e.test_customer_journeys import (
    add_first_product_to_cart,
    expect_paid,
    go_to_checkout,
    pay_with_mobile_money,
)
from tests.helpers import only_order

SHOTS = Path(os.environ.get("AFTER_SALE_SHOTS", Path(tempfile.gettempdir()) / "comptoir-after-sale-shots"))
SIZES = {"phone": PHONE, "desktop": {"viewport": {"width": 1280, "height": 900}}}


def shoot(page, name: str, size: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


def wait_for_texts(count: int) -> list:
    """The texts the simulated SMS API received, once ``count`` have arrived and every text
    of the outbox is sent (sent after the responses that wrote them)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        db.session.expire_all()
        waiting = db.session.scalars(select(OutboxSms).where(OutboxSms.status != "sent")).all()
        if len(STATE.texts_sent()) >= count and not waiting:
            break
        time.sleep(0.1)
    return STATE.texts_sent()


@pytest.mark.parametrize("size", SIZES)
def test_merchant_partly_refunds_and_the_customer_sees_it(browser, base_url, app, ctx, request, size):
    app.config.update(SMS_PROVIDER="africastalking", SMS_SEND_AFTER_RESPONSE=True)
    customer_context, customer = _new_page(browser, base_url, request, **SIZES[size])
    merchant_context, merchant = _new_page(browser, base_url, request, **SIZES[size])
    try:
        add_first_product_to_cart(customer)  # Café du Rwanda × 2, 9 000 F CFA, pickup
        go_to_checkout(customer)
        customer.get_by_label("LigdiCash").check()
        customer.get_by_role("button", name=re.compile(r"^Pay ")).click()
        pay_with_mobile_money(customer)
        expect_paid(customer)
        order = only_order()
        assert [t.message.split(":")[0] for t in wait_for_texts(2)] == ["Comptoir", "Comptoir"]

        sign_in(merchant, app, path=f"/admin/orders/{order.reference}")
        expect(merchant.get_by_role("heading", level=1)).to_contain_text(order.reference)
        merchant.locator("#refund summary").click()
        merchant.get_by_label(re.compile(r"^Café du Rwanda")).fill("1")  # one of the two bags
        merchant.get_by_label("Paid back by").select_option("mobile_money")
        merchant.get_by_label(re.compile("Transaction reference")).fill("MP-2611-77")
        no_horizontal_scroll(merchant)
        shoot(merchant, "admin-refund-form", size)
        merchant.get_by_role("button", name="Record refund").click()
        expect(merchant.get_by_text(re.compile(r"Refund of 4\s500\sF\sCFA recorded"))).to_be_visible()
        expect(merchant.locator("#partly-refunded")).to_be_visible()
        expect(merchant.locator("#refunds")).to_contain_text("MP-2611-77")
        expect(merchant.locator("#refunds")).to_contain_text("1 × Café du Rwanda")
        no_horizontal_scroll(merchant)
        shoot(merchant, "admin-order-refunded", size)

        customer.reload()
        expect(customer.get_by_role("heading", name="Paid, partly refunded")).to_be_visible()
        expect(customer.locator("#refund-summary")).to_have_text(
            re.compile(r"We have refunded 4\s500\sF\sCFA of the 9\s000\sF\sCFA you paid\."))
        expect(customer.locator('#timeline [data-step="partly_refunded"]')).to_contain_text("Partly refunded")
        expect(customer.locator('#timeline [data-step="paid"]')).to_be_visible()
        no_horizontal_scroll(customer)
        shoot(customer, "order-page-partly-refunded", size)

        texts = wait_for_texts(3)
        assert texts[-1].to == "+22670123456"
        assert re.search(rf"we have refunded 4\s500\sF\sCFA on your order {order.reference}", texts[-1].message)
    finally:
        _finish(merchant_context, merchant, request)
        _finish(customer_context, customer, request)


@pytest.mark.parametrize("size", SIZES)
def test_find_my_order_on_another_phone(browser, base_url, app, ctx, request, size, shopper):
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    context, page = _new_page(browser, base_url, request, **SIZES[size])
    try:
        page.goto("/orders")
        page.get_by_role("link", name=re.compile("Find your order")).click()
        page.get_by_label("Order number").fill(order.reference.lower())
        page.get_by_label("Phone used at checkout").fill("70 99 99 99")
        page.get_by_role("button", name="Find my order").click()
        expect(page.get_by_text("We found no order with this number and phone.")).to_be_visible()
        no_horizontal_scroll(page)
        shoot(page, "find-order-not-found", size)
        page.get_by_label("Phone used at checkout").fill("70 12 34 56")
        page.get_by_role("button", name="Find my order").click()
        expect(page).to_have_url(re.compile(rf"/orders/{order.token}$"))
        expect(page.locator("#order-status")).to_have_attribute("data-status", "paid")
        expect(page.locator("#timeline li")).to_have_count(2)
        no_horizontal_scroll(page)
        shoot(page, "order-page-found", size)
    finally:
        _finish(context, page, request)
