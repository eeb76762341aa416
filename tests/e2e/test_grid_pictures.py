"""The catalogue grid on a phone: pictures below the fold wait until they come near the screen
(static/js/lazy.js), keep their shape meanwhile, and still show without JavaScript (issue 17)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, _finish, _new_page


def _media_requests(page) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/media/" in r.url else None)
    return requested


def _box(img) -> tuple[float, float]:
    box = img.bounding_box()
    return round(box["width"]), round(box["height"])


def test_phone_grid_fetches_only_pictures_near_the_screen(phone_page):
    page = phone_page
    requested = _media_requests(page)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    cards = page.locator(".product-card")
    expect(cards).to_have_count(14)
    first = cards.first.locator("img")
    assert first.evaluate("i => i.complete && i.naturalWidth > 0 && i.currentSrc.includes('/media/')")
    last = cards.last.locator("picture img")
    # Far below the fold: not fetched, but already the size it will have (no layout shift).
    assert last.evaluate("i => i.currentSrc.startsWith('data:')")
    before = _box(last)
    assert before[1] > 100 and abs(before[0] / before[1] - 4 / 3) < 0.02
    fetched_first = len(set(requested))
    assert 4 <= fetched_first < 14, requested

    last.scroll_into_view_if_needed()
    expect(cards.last.locator("picture")).not_to_have_class("late")
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=last.element_handle())
    assert "/media/" in last.evaluate("i => i.currentSrc") and last.evaluate("i => i.currentSrc").endswith("-320.webp")
    assert _box(last) == before
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    assert len(set(requested)) == 14  # one thumbnail per product, none twice, none extra


def test_phone_grid_without_javascript_still_shows_every_picture(browser, base_url, request):
    context, page = _new_page(browser, base_url, request, **PHONE, java_script_enabled=False)
    try:
        page.goto("/")
        cards = page.locator(".product-card")
        expect(cards).to_have_count(14)
        assert page.locator("picture.late").first.is_hidden()  # the held copy is hidden (scripting: none)
        for i in (0, 13):
            img = cards.nth(i).locator("picture:visible img")
            expect(img).to_have_count(1)
            img.scroll_into_view_if_needed()
            page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
            assert "/media/" in img.evaluate("i => i.currentSrc")
    finally:
        _finish(context, page, request)


def test_phone_grid_without_intersection_observer_shows_every_picture_at_once(phone_page):
    """Older phone browsers (KaiOS 2.5, old Android WebViews) have no IntersectionObserver."""
    page = phone_page
    page.add_init_script("delete window.IntersectionObserver; delete NodeList.prototype.forEach;")
    requested = _media_requests(page)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("picture.late")).to_have_count(0)
    assert len(set(requested)) == 14
    last = page.locator(".product-card").last.locator("picture img")
    last.scroll_into_view_if_needed()
    assert last.evaluate("i => i.complete && i.naturalWidth > 0 && i.currentSrc.endsWith('-320.webp')")
