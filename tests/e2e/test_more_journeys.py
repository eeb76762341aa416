"""The other gateways' journeys, a retry with another gateway, and the merchant's (issue 11)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.merchant import sign_in
from tests.e2e.test_customer_journeys import (
    add_first_product_to_cart,
    expect_paid,
    fill_checkout,
    pay_with_mobile_money,
)
from tests.helpers import only_order


def test_irembopay_purchase_without_browser_return(page, step):
    add_first_product_to_cart(page, market="RWF")
    fill_checkout(page, "IremboPay")
    expect(page.get_by_role("heading", name="Pay on IremboPay")).to_be_visible()
    with page.expect_popup() as opened:  # IremboPay opens in a new tab; this one waits
        page.locator("#pay-at-gateway").click()
    gateway = opened.value
    expect(gateway).to_have_url(re.compile(r"/_sim/irembopay/"))
    step(gateway, "gateway")
    gateway.get_by_label("Mobile money number (MTN 078/079, Airtel 072/073)").fill("0781234567")
    gateway.get_by_role("button", name=re.compile(r"^Pay ")).click()
    step(gateway, "gateway-paid")
    gateway.close()
    page.reload()
    expect_paid(page)


def test_paycashless_purchase(page, step):
    add_first_product_to_cart(page, market="NGN")
    fill_checkout(page, "Paycashless")
    expect(page).to_have_url(re.compile(r"/_sim/paycashless/"))
    step(page, "gateway")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect_paid(page)


def test_fcfpay_purchase(page, step):
    add_first_product_to_cart(page, market="USD")
    fill_checkout(page, "FCFPay")
    expect(page).to_have_url(re.compile(r"/_sim/fcfpay/"))
    step(page, "gateway")
    page.get_by_role("button", name=re.compile(r"^Pay the remaining")).click()
    expect_paid(page)


def test_cancel_then_retry_with_another_gateway(page, ctx):
    """USD has three gateways: give up on Paycashless, pay with FCFPay on the same order."""
    add_first_product_to_cart(page, market="USD")
    fill_checkout(page, "Paycashless")
    page.get_by_role("button", name="Cancel invoice").click()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    page.get_by_label("FCFPay").check()
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("button", name=re.compile(r"^Pay the remaining")).click()
    expect_paid(page)
    assert [p.gateway for p in only_order().payments] == ["paycashless", "fcfpay"]
    assert only_order().payments[0].status == "cancelled"


def test_merchant_finds_an_order_rechecks_and_exports(page, app, step):
    add_first_product_to_cart(page)
    fill_checkout(page, "LigdiCash")
    pay_with_mobile_money(page)
    expect_paid(page)
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Order ")
    sign_in(page, app)
    step(page, "overview")
    page.goto("/admin/orders")
    page.get_by_label("Search").fill(reference)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {reference}"))).to_be_visible()
    log = page.locator("ol.events").first
    expect(log).to_contain_text("callback")
    expect(log).to_contain_text("order paid")
    step(page, "order")
    page.get_by_role("button", name="Re-check with the gateway now").click()
    expect(page.locator("ol.events").first).to_contain_text("succeeded")

    page.goto("/admin/orders")
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert [row for row in rows if reference in row.values()], rows
