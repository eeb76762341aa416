"""Issue 17: every customer page and the dashboard, on a phone and a desktop, checked with
axe-core (no serious or critical violation), for 44 px tap targets and a visible focus."""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from merchant.accounts import save_admin
from tests.e2e.merchant import MERCHANT, sign_in
from tests.e2e.test_customer_journeys import pay_with_mobile_money

AXE = Axe()

#: What a thumb has to hit: controls, and links that stand alone (navigation, buttons, pills).
TAP_TARGETS = """() => [...document.querySelectorAll(
    'button, select, textarea, input:not([type=hidden]):not([type=radio]), a.button, nav a, .gateway, .pager a')]
  .map(e => [e.outerHTML.slice(0, 90), e.getBoundingClientRect()])
  .filter(([html, r]) => r.width > 1 && r.height > 1 && (r.height < 43.5 || r.width < 43.5))
  .map(([html, r]) => `${html} is ${Math.round(r.width)}×${Math.round(r.height)}`)"""


class Audit:
    """Runs the checks on each page visited and keeps every finding, to report them all at once."""

    def __init__(self, page, phone: bool):
        self.page, self.phone, self.findings, self.pages = page, phone, [], []

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.pages.append(name)
        for violation in AXE.run(self.page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.findings.append(f"{name}: {violation['id']} ({violation['impact']}) {targets}")
        if self.phone:
            self.findings += [f"{name}: tap target {small}" for small in self.page.evaluate(TAP_TARGETS)]
            width = self.page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                self.findings.append(f"{name}: scrolls sideways ({width}px)")


def customer_pages(page, audit: Audit) -> None:
    page.goto("/")
    audit("catalogue")
    page.get_by_role("link", name="Café du Rwanda").first.click()
    audit("product")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="One more Café du Rwanda").click()
    expect(page.locator("#cart-count")).to_have_text("2")
    audit("cart")
    page.get_by_role("link", name="Checkout").click()
    audit("checkout")
    page.locator("#pay").click()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    audit("checkout with errors")
    page.goto("/checkout")
    page.get_by_label("Full name").fill("Awa Ouédraogo")
    page.get_by_label("Email").fill("awa@example.bf")
    page.get_by_label("Phone (with country code)").fill("70 12 34 56")
    page.get_by_label("LigdiCash").check()
    page.locator("#pay").click()
    expect(page).to_have_url(re.compile(r"/_sim/ligdicash/"))
    page.go_back()
    expect(page.locator("#waiting-order")).to_be_visible()
    audit("cart, back from the gateway")
    page.locator("#waiting-order a.button").click()
    audit("order, waiting")
    page.get_by_role("link", name="Go back to the payment page").click()
    pay_with_mobile_money(page)
    expect(page.locator("#order-status")).to_have_attribute("data-status", "paid", timeout=15_000)
    audit("order, paid")
    page.goto("/orders")
    audit("my orders")
    page.get_by_role("link", name=re.compile("Find your order")).click()
    page.get_by_role("button", name="Find my order").click()
    expect(page.locator("#reference")).to_have_attribute("aria-invalid", "true")
    audit("find my order, with errors")
    page.goto("/nope")
    audit("not found")


def dashboard_pages(page, audit: Audit) -> None:
    page.goto("/admin/")
    audit("dashboard login")
    sign_in(page, path=None)
    audit("dashboard overview")
    page.goto("/admin/orders")
    audit("dashboard orders")
    page.locator("#orders tbody a").first.click()
    page.locator("#refund summary").click()
    page.locator("#cancel summary").click()
    audit("dashboard order")
    for path, name in (("/admin/attention", "needs attention"), ("/admin/products", "products"),
                       ("/admin/jobs", "jobs")):
        page.goto(path)
        audit(f"dashboard {name}")


@pytest.mark.parametrize("size", ["phone_page", "page"])
def test_no_serious_accessibility_violation_on_any_page(request, app, size):
    page = request.getfixturevalue(size)
    with app.app_context():
        save_admin(*MERCHANT)
    audit = Audit(page, phone=size == "phone_page")
    customer_pages(page, audit)
    dashboard_pages(page, audit)
    assert len(audit.pages) == 18
    assert not audit.findings, "\n".join(audit.findings)


def test_focus_is_visible(page):
    page.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the skip link, onto the brand
    style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                          " return [s.outlineStyle, s.outlineWidth]; })()")
    assert style[0] != "none" and float(style[1].removesuffix("px")) >= 2, style
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
