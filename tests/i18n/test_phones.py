"""Issue 10: phone numbers validated per market (phonenumbers), stored as E.164, sent as each gateway documents."""
from __future__ import annotations

import pytest

from core.phones import PhoneError, normalise
from models import Order
from simulator.state import STATE
from tests.helpers import count, only_order, text_of


@pytest.mark.parametrize("raw,currency,e164", [
    ("+226 70 12 34 56", "XOF", "+22670123456"),
    ("70 12 34 56", "XOF", "+22670123456"),      # a Burkinabè number without the code
    ("00226 70 12 34 56", "XOF", "+22670123456"),
    ("6 77 00 00 00", "XAF", "+237677000000"),   # Cameroon
    ("0781234567", "RWF", "+250781234567"),      # Rwanda, with the trunk 0
    ("0803 123 4567", "NGN", "+2348031234567"),  # Nigeria
    ("+1 (202) 555-0143", "USD", "+12025550143"),
    ("+237 677 00 00 00", "XOF", "+237677000000"),  # a foreign number with its own code is fine anywhere
])
def test_numbers_are_normalised_per_market(app, ctx, raw, currency, e164):
    assert normalise(raw, currency) == e164


@pytest.mark.parametrize("raw,currency,reason", [
    ("call me", "XOF", "Digits only"),
    ("12", "XOF", "Digits only"),
    ("70 12 34", "XOF", "does not exist"),        # too short for Burkina Faso
    ("0781234567", "XOF", "does not exist"),      # a Rwandan number read in Burkina Faso
    ("202 555 0143", "USD", "Start with +"),      # international market: no country to guess
    ("+999 1234 5678", "USD", "not a phone number"),
])
def test_bad_numbers_are_refused_with_a_reason(app, ctx, raw, currency, reason):
    with pytest.raises(PhoneError) as refused:
        normalise(raw, currency)
    assert reason in str(refused.value)


def test_checkout_stores_the_local_number_as_e164(shopper):
    shopper.add_to_cart("savon-noir")
    assert shopper.checkout(phone="70 12 34 56").status_code == 303
    assert only_order().customer_phone == "+22670123456"


def test_checkout_refuses_a_number_of_the_wrong_country_with_an_example(shopper):
    shopper.set_market("XAF")
    shopper.add_to_cart("pagne-wax-6-yards")
    page = shopper.checkout("payunit", phone="70 12 34 56")  # a Burkinabè number in the Cameroon market
    assert page.status_code == 400 and count(Order) == 0
    assert "This phone number does not exist" in text_of(page) and "+237 6 71 23 45 67" in text_of(page)


def test_the_error_and_the_placeholder_in_french(french):
    french.set_market("RWF")
    french.add_to_cart("cafe-rwanda")
    assert 'placeholder="+250 720 123 456"' in french.get("/checkout").text
    page = french.checkout("irembopay", phone="12345")
    assert page.status_code == 400
    assert "Chiffres uniquement, avec l’indicatif du pays, par exemple +250 720 123 456." in text_of(page)


def test_usd_market_requires_the_country_code(shopper):
    shopper.set_market("USD")
    shopper.add_to_cart("theiere-touareg")
    page = shopper.checkout("paycashless", phone="202 555 0143")
    assert page.status_code == 400 and "Start with + and the country code" in text_of(page)


def test_payunit_gets_the_e164_number(shopper):
    """PayUnit's client_phone_number: E.164 as stored (its documented examples show no other form)."""
    shopper.set_market("XAF")
    shopper.add_to_cart("pagne-wax-6-yards")
    shopper.checkout("payunit", phone="6 77 00 00 00")
    order = only_order()
    assert order.customer_phone == "+237677000000"
    assert STATE.get(order.payments[0].gateway_ref).request["client_phone_number"] == "+237677000000"


def test_ligdicash_gets_no_phone(shopper):
    """LigdiCash: `customer` stays empty (a number there filters the operators on its page)."""
    shopper.buy("savon-noir", phone="70 12 34 56")
    order = only_order()
    assert order.customer_phone == "+22670123456"
    assert STATE.get(order.payments[0].gateway_ref).request["commande"]["invoice"]["customer"] == ""


def test_irembopay_gets_its_local_form(shopper):
    shopper.set_market("RWF")
    shopper.add_to_cart("cafe-rwanda")
    shopper.checkout("irembopay", phone="+250 78 123 4567")
    order = only_order()
    assert order.customer_phone == "+250781234567"
    assert STATE.get(order.payments[0].gateway_ref).request["customer"]["phoneNumber"] == "0781234567"
