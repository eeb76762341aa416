"""Issue 28, "Find my order": order number + phone → the order page; the same answer for a
wrong number and a wrong phone; tries are rate-limited. And the order page's timeline."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Order
from tests.helpers import Shopper, only_order, text_of

NOT_FOUND = "We found no order with this number and phone."


@pytest.fixture
def other_browser(base_url):
    """The customer later, on another phone: no session, no "My orders"."""
    with Shopper(base_url) as browser:
        yield browser


def find(browser: Shopper, reference: str, phone: str):
    return browser.post("/orders/find", {"reference": reference, "phone": phone}, csrf_from="/orders/find")


@pytest.mark.parametrize("typed_reference, typed_phone", [
    (None, "+226 70 12 34 56"),        # as given at checkout
    (None, "70123456"),                # without the country code: read in the order's country
    ("lower", "0022670123456"),        # the number in lower case, 00 instead of +
    ("bare", "+22670123456"),          # without the CMD- prefix
])
def test_the_right_number_and_phone_open_the_order(shopper, other_browser, typed_reference, typed_phone):
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    reference = {None: order.reference, "lower": order.reference.lower(),
                 "bare": order.reference.removeprefix("CMD-")}[typed_reference]
    found = find(other_browser, reference, typed_phone)
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/orders/{order.token}")
    assert order.reference in text_of(other_browser.get("/orders"))  # now under "My orders" there


def test_a_wrong_number_and_a_wrong_phone_get_the_same_answer(shopper, other_browser):
    shopper.buy()
    order = only_order()
    wrong_phone = find(other_browser, order.reference, "+226 70 99 99 99")
    wrong_number = find(other_browser, "CMD-ZZZZZZZZZZ", "+226 70 12 34 56")
    nonsense = find(other_browser, order.reference, "not a phone")
    for response in (wrong_phone, wrong_number, nonsense):
        assert response.status_code == 200 and NOT_FOUND in text_of(response)
        assert order.token not in response.text and "Awa" not in response.text
    # the same page, but for what was typed (echoed back in the form)
    assert (text_of(wrong_phone).replace(order.reference, "R").replace("+226 70 99 99 99", "P")
            == text_of(wrong_number).replace("CMD-ZZZZZZZZZZ", "R").replace("+226 70 12 34 56", "P"))
    empty = find(other_browser, "", "")
    assert empty.status_code == 400 and "This field is required." in text_of(empty)


def test_tries_are_rate_limited(shopper, other_browser, app):
    app.config["FIND_ORDER_RATE_LIMIT"] = "3 per minute"
    shopper.buy()
    order = only_order()
    for _ in range(3):
        assert find(other_browser, order.reference, "+226 70 99 99 99").status_code == 200
    refused = find(other_browser, order.reference, "+226 70 12 34 56")  # even the right one, now
    assert refused.status_code == 429 and "Too many tries" in text_of(refused)
    assert order.token not in refused.text


def test_the_timeline_tells_where_the_order_is(admin, shopper):
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    page = f"/orders/{order.token}"
    steps = _steps(shopper.get(page))
    assert steps == ["placed", "paid"]
    admin_page = f"/admin/orders/{order.reference}"
    admin.post(admin_page + "/fulfil", {"action": "preparing"}, csrf_from=admin_page)
    admin.post(admin_page + "/refund", {"amount": "1000", "method": "cash"}, csrf_from=admin_page)
    admin.post(admin_page + "/fulfil", {"action": "ready_for_pickup"}, csrf_from=admin_page)
    response = shopper.get(page)
    assert _steps(response) == ["placed", "paid", "preparing", "ready_for_pickup", "partly_refunded"]
    words = text_of(response)
    assert "Ready for pickup" in words and "Partly refunded" in words and "Paid, partly refunded" in words


def test_the_timeline_of_a_cancelled_unpaid_order(admin, shopper):
    shopper.buy()
    order = only_order()
    admin.post(f"/admin/orders/{order.reference}/cancel", {"reason": "out of stock"})
    db.session.expire_all()
    assert db.session.scalar(select(Order.status)) == "cancelled"
    response = shopper.get(f"/orders/{order.token}")
    assert _steps(response) == ["placed", "cancelled"]
    assert "Reason: out of stock" in text_of(response)


def _steps(response) -> list[str]:
    import re

    timeline = response.text.split('id="timeline"')[1].split("</ol>")[0]
    return re.findall(r'class="entry" data-step="([a-z_]+)"', timeline)
