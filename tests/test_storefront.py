"""Issue 17: the phone-first pages — checkout that states the amount and the means of payment,
a waiting page that polls a small JSON status instead of refreshing, the pending order
found again from the cart, language switches that keep what was typed, errors tied to fields."""
from __future__ import annotations

import re

import pytest

from payments.gateways import enabled_gateways
from providers import REGISTRY
from shop import catalog
from simulator.state import STATE
from tests.helpers import events, let_pacing_pass, only_order, text_of

NBSP = str.maketrans({"\u202f": " ", "\xa0": " "})


def plain(response) -> str:
    return text_of(response).translate(NBSP)


def test_pay_button_states_the_amount_and_the_summary_comes_before_it(shopper):
    shopper.add_to_cart("cafe-rwanda", 2)
    page = shopper.get("/checkout").text
    assert re.search(r'<button type="submit" class="pay" id="pay"[^>]*>Pay 9.000.F.CFA</button>', page)
    assert page.index('id="summary-title"') < page.index('id="pay"')
    assert 'src="/static/js/checkout.js"' in page and "<script>" not in page


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_gateway_says_what_customers_can_pay_with(name):
    means = REGISTRY[name].pays_with
    assert means and all(isinstance(m, str) and m for m in means)


def test_gateway_badges_are_shown_and_translated(shopper):
    shopper.add_to_cart("cafe-rwanda")
    page = shopper.get("/checkout").text
    badges = re.findall(r'<li class="means">([^<]+)</li>', page)
    assert badges == ["Orange Money", "Moov Money", "Wave", "Bank cards"]
    shopper.post("/language", {"language": "fr"})
    assert "Cartes bancaires" in shopper.get("/checkout").text


def test_the_only_method_of_a_market_is_preselected(shopper, app, ctx):
    single = [c for c in ("XOF", "XAF", "RWF", "NGN", "USD") if len(enabled_gateways(c)) == 1]
    several = [c for c in ("XOF", "XAF", "RWF", "NGN", "USD") if len(enabled_gateways(c)) > 1]
    assert single, "no market with exactly one payment method to test"
    shopper.set_market(single[0])
    shopper.add_to_cart("cafe-rwanda")
    assert re.search(r'<input checked[^>]*name="gateway"', shopper.get("/checkout").text)
    if several:  # with a choice to make, nothing is chosen for the customer
        shopper.set_market(several[0])
        shopper.add_to_cart("cafe-rwanda")
        assert not re.search(r'<input checked[^>]*name="gateway"', shopper.get("/checkout").text)


def test_trust_block_comes_from_the_settings(shopper, app):
    app.config.update(SHOP_DELIVERY_NOTE="Livraison à moto dans Ouagadougou en 24 h.",
                      SHOP_CONTACT="+226 70 99 99 99")
    shopper.add_to_cart("cafe-rwanda")
    page = plain(shopper.get("/checkout"))
    assert "Livraison à moto dans Ouagadougou en 24 h." in page and "+226 70 99 99 99" in page
    assert "Tell us within 14 days" in page  # no returns note set: the standard wording
    app.config["SHOP_CONTACT"] = ""
    catalog.clear_cache()  # the shop's identity is cached per catalogue version (a restart, in real life)
    assert "Contact" not in plain(shopper.get("/checkout"))


def test_form_errors_are_tied_to_their_fields(shopper):
    shopper.add_to_cart("cafe-rwanda")
    page = shopper.checkout(email="nope", gateway="").text
    assert re.search(r'<input aria-describedby="email-error" aria-invalid="true"[^>]*id="email"', page)
    assert re.search(r'<p class="error" id="email-error">Invalid email address.</p>', page)
    assert re.search(r'<fieldset class="gateways has-error" aria-describedby="gateway-error">', page)
    assert 'id="gateway-error">Choose a payment method.' in page
    assert 'aria-invalid' not in page.split('id="name"')[0].rsplit("<input", 1)[1]  # a valid field is not flagged


def test_switching_language_at_checkout_keeps_what_was_typed(shopper):
    shopper.add_to_cart("cafe-rwanda")
    page = shopper.get("/checkout").text
    assert 'form="checkout-form" formaction="/language?next=/checkout" formnovalidate' in page
    typed = {"name": "Awa Ouédraogo", "email": "awa@example.bf", "phone": "70 12 34 56", "gateway": "ligdicash",
             "checkout_key": "whatever", "language": "fr"}
    switched = shopper.post("/language?next=/checkout", typed, csrf_from="/checkout")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/checkout")
    again = shopper.get("/checkout").text
    assert '<html lang="fr">' in again
    for value in ('value="Awa Ouédraogo"', 'value="awa@example.bf"', 'value="70 12 34 56"'):
        assert value in again
    assert re.search(r'<input checked[^>]*value="ligdicash"', again)
    assert 'value="Awa Ouédraogo"' not in shopper.get("/checkout").text  # kept once, not forever


def test_language_switch_elsewhere_keeps_nothing_and_goes_back(shopper):
    response = shopper.post("/language", {"language": "fr", "next": "/cart"})
    assert response.headers["Location"].endswith("/cart")
    assert shopper.post("/language?next=//evil.example", {"language": "en"}).headers["Location"] == "/"


def test_cart_steppers_post_one_more_or_one_less(shopper, ctx):
    shopper.add_to_cart("cafe-rwanda", 2)
    page = shopper.get("/cart").text
    assert page.count('name="quantity" value="3"') == 1 and page.count('name="quantity" value="1"') == 1
    assert "Unit price" in page and "Line total" in page and 'class="thumb"' in page
    line = re.search(r'name="variant_id" value="(\d+)"', page).group(1)  # a line is its variant
    shopper.post("/cart/update", {"variant_id": line, "quantity": "3"})
    assert f'id="qty-{line}" type="number" name="quantity" value="3"' in shopper.get("/cart").text
    shopper.post("/cart/update", {"variant_id": line, "quantity": "0"})
    assert "Your cart is empty." in shopper.get("/cart").text


def test_back_from_the_gateway_the_cart_shows_the_pending_order(shopper, ctx):
    redirect = shopper.buy()
    order = only_order()
    cart = shopper.get("/cart")
    assert f"Your order {order.reference} is waiting for payment" in plain(cart)
    assert f'href="/orders/{order.token}"' in cart.text
    shopper.on_gateway_page(redirect, "pay")
    assert "is waiting for payment" not in plain(shopper.get("/cart"))


def test_waiting_page_polls_instead_of_refreshing_every_five_seconds(shopper, ctx):
    shopper.buy()
    order = only_order()
    page = shopper.get(f"/orders/{order.token}").text
    assert 'content="5"' not in page
    assert '<noscript><meta http-equiv="refresh" content="60"></noscript>' in page
    assert 'src="/static/js/order-status.js"' in page
    assert f'data-status-url="/orders/{order.token}/status.json"' in page
    assert "Your items are kept for you until" in plain(shopper.get(f"/orders/{order.token}"))
    assert "Only if you have not paid" in page


def test_status_json_follows_the_order(shopper, ctx):
    redirect = shopper.buy()
    order = only_order()
    pending = shopper.get(f"/orders/{order.token}/status.json")
    assert pending.status_code == 200 and pending.headers["Cache-Control"] == "no-store"
    assert pending.json()["status"] == "pending" and pending.json()["payment_status"] == "pending"
    assert pending.json()["changed_at"]
    shopper.on_gateway_page(redirect, "pay")
    let_pacing_pass()  # the callbacks came inside LigdiCash's 3 s window after our last check
    paid = shopper.get(f"/orders/{order.token}/status.json").json()
    assert paid["status"] == "paid" and paid["payment_status"] == "succeeded"
    assert shopper.get("/orders/not-a-token/status.json").status_code == 404
    assert shopper.get("/orders/" + "x" * 100 + "/status.json").status_code == 404


def test_status_json_rechecks_the_gateway_at_most_every_few_seconds(shopper, app, ctx):
    shopper.buy()
    payment = only_order().payments[0]
    token = only_order().token
    app.config["STATUS_RECHECK_SECONDS"] = 0
    for _ in range(2):
        let_pacing_pass()
        shopper.get(f"/orders/{token}/status.json")
    asked = len(events(payment, "status-check"))
    assert asked >= 2
    app.config["STATUS_RECHECK_SECONDS"] = 3600
    for _ in range(5):
        assert shopper.get(f"/orders/{token}/status.json").status_code == 200
    assert len(events(payment, "status-check")) == asked


@pytest.mark.parametrize("fault", ["http500", "timeout"])
def test_status_json_answers_when_the_gateway_fails(shopper, ctx, fault):
    shopper.buy()
    STATE.set_faults("ligdicash", status=fault)
    response = shopper.get(f"/orders/{only_order().token}/status.json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
