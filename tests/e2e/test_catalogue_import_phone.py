"""Issue 26: the catalogue import on the merchant's phone. A file with errors gets the preview with
every problem by row and column, nothing to confirm and no sideways scrolling at 390 px (nor on a
desktop); a good file is previewed and confirmed from the phone. Screenshots go to $DASHBOARD_SHOTS
(default /tmp/comptoir-dashboard-shots/) to be looked at."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Product
from tests.e2e.conftest import PHONE, _finish, _new_page
from tests.e2e.merchant import sign_in
from tests.e2e.test_accessibility import Audit

DATA = Path(__file__).parent.parent / "data"
SHOTS = Path(os.environ.get("DASHBOARD_SHOTS", Path(tempfile.gettempdir()) / "comptoir-dashboard-shots"))
SIZES = {"phone": PHONE, "desktop": {"viewport": {"width": 1280, "height": 800}}}


def _scroll_width(page) -> list[int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _upload(page, sample: str, audit: Audit | None = None) -> None:
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()  # signed in
    page.goto("/admin/products")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"products-{page.viewport_size['width']}.png"), full_page=True)
    page.get_by_role("link", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import products")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"import-form-{page.viewport_size['width']}.png"), full_page=True)
    if audit is not None:
        audit("import form")
    page.get_by_label("Catalogue file (CSV)").set_input_files(str(DATA / sample))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Import preview")).to_be_visible()
    if audit is not None:
        audit(f"import preview of {sample}")


@pytest.mark.parametrize("size", SIZES)
def test_import_preview_with_errors_fits_the_screen(browser, base_url, app, size, request):
    context, page = _new_page(browser, base_url, request, **SIZES[size])
    try:
        sign_in(page, app)
        audit = Audit(page, phone=size == "phone")  # axe-core: no serious violation; 44 px taps on a phone
        _upload(page, "catalogue_errors.csv", audit)
        assert not audit.findings, "\n".join(audit.findings)
        errors = page.locator("#import-errors tbody tr")
        expect(errors).to_have_count(8)
        expect(errors.first).to_contain_text("handle")
        expect(errors.first).to_contain_text("A handle is made of lower-case letters")
        expect(page.locator("#import-errors")).to_contain_text("No category has the slug jouets")
        expect(page.locator("#import-error-count")).to_contain_text("8 problem(s)")
        expect(page.locator("#confirm-import")).to_have_count(0)  # nothing to confirm
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"import-errors-{size}.png"), full_page=True)
        scroll, inner = _scroll_width(page)
        assert scroll <= min(inner, SIZES[size]["viewport"]["width"]), f"scrolls sideways: {scroll} > {inner}"
    finally:
        _finish(context, page, request)  # console errors, CSP violations, failed requests fail it
    with app.app_context():
        assert db.session.scalar(select(Product).where(Product.slug == "plateau-vannerie")) is None
        db.session.remove()


def test_import_previewed_and_confirmed_on_a_phone(browser, base_url, app, request):
    context, page = _new_page(browser, base_url, request, **PHONE)
    try:
        sign_in(page, app)
        audit = Audit(page, phone=True)
        _upload(page, "catalogue_utf8.csv", audit)
        assert not audit.findings, "\n".join(audit.findings)
        expect(page.locator("#import-summary")).to_have_text("2 to create, 1 to update, 0 unchanged.")
        expect(page.locator('tr[data-handle="savon-noir"]')).to_contain_text("price XOF: 1500 → 1750")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "import-preview-phone.png"), full_page=True)
        scroll, inner = _scroll_width(page)
        assert scroll <= min(inner, 390), f"scrolls sideways: {scroll} > {inner}"
        page.get_by_role("button", name="Confirm the import").click()
        expect(page.get_by_text("2 product(s) created, 1 updated, 0 unchanged.")).to_be_visible()
        expect(page.locator("#products")).to_contain_text("Boubou brodé")
    finally:
        _finish(context, page, request)
    with app.app_context():
        boubou = db.session.scalar(select(Product).where(Product.slug == "boubou-brode"))
        assert boubou is not None and boubou.stock == 12
        db.session.remove()
