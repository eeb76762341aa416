"""The CFA franc markets take the numbers of every country of their monetary union:
UEMOA for XOF (local numbers read as Burkinabè), CEMAC for XAF (read as Cameroonian)."""
from __future__ import annotations

import pytest

from core.phones import PhoneError, normalise
from models import Order
from tests.helpers import count, only_order, text_of

UEMOA = [("+229 01 95 12 34 56", "+2290195123456"), ("+226 70 12 34 56", "+22670123456"),
         ("+225 01 23 45 6789", "+2250123456789"), ("+245 955 012 345", "+245955012345"),
         ("+223 65 01 23 45", "+22365012345"), ("+227 93 12 34 56", "+22793123456"),
         ("+221 77 123 45 67", "+221771234567"), ("+228 90 11 23 45", "+22890112345")]
CEMAC = [("+237 6 71 23 45 67", "+237671234567"), ("+236 70 01 23 45", "+23670012345"),
         ("+242 06 123 4567", "+242061234567"), ("+241 06 03 12 34", "+24106031234"),
         ("+240 222 123 456", "+240222123456"), ("+235 63 01 23 45", "+23563012345")]


@pytest.mark.parametrize("raw,e164", UEMOA)
def test_xof_market_takes_every_uemoa_country(app, ctx, raw, e164):
    assert normalise(raw, "XOF") == e164
    assert normalise(raw.replace("+", "00", 1), "XOF") == e164


@pytest.mark.parametrize("raw,e164", CEMAC)
def test_xaf_market_takes_every_cemac_country(app, ctx, raw, e164):
    assert normalise(raw, "XAF") == e164


def test_local_numbers_are_read_in_burkina_faso_and_cameroon(app, ctx):
    assert normalise("70 12 34 56", "XOF") == "+22670123456"
    assert normalise("6 71 23 45 67", "XAF") == "+237671234567"


@pytest.mark.parametrize("raw,currency", [("70 12 34", "XOF"), ("77 123 45 67", "XOF"), ("6 71 23", "XAF")])
def test_a_wrong_number_is_refused_saying_what_is_expected(app, ctx, raw, currency):
    with pytest.raises(PhoneError) as refused:
        normalise(raw, currency)
    message = str(refused.value)
    assert message.startswith("This phone number does not exist.")
    if currency == "XOF":
        assert "Benin, Burkina Faso, Côte d’Ivoire, Guinea-Bissau, Mali, Niger, Senegal, Togo" in message
        assert "+226 70 12 34 56 or +221 77 123 45 67" in message
    else:
        assert "Cameroon, Central African Republic, Chad, Congo - Brazzaville, Equatorial Guinea, Gabon" in message
        assert "+237 6 71 23 45 67 or +241 06 03 12 34" in message


def test_numbers_from_outside_the_union_are_still_taken_with_their_code(app, ctx):
    """A customer may pay from abroad: as before, any valid number with its code is kept."""
    assert normalise("+250 78 123 4567", "XOF") == "+250781234567"
    assert normalise("+221 77 123 45 67", "XAF") == "+221771234567"


def test_a_senegalese_number_typed_without_its_code_gets_the_example(app, ctx):
    with pytest.raises(PhoneError, match=r"\+221 77 123 45 67"):
        normalise("77 123 45 67", "XOF")  # read as Burkinabè: too long


def test_checkout_with_a_senegalese_number_in_the_xof_market(shopper):
    shopper.add_to_cart("savon-noir")
    assert shopper.checkout(phone="+221 77 123 45 67").status_code == 303
    assert only_order().customer_phone == "+221771234567"


def test_checkout_refusal_in_french_names_the_countries(french):
    french.add_to_cart("savon-noir")
    page = french.checkout(phone="77 123 45 67")  # a Senegalese number without +221
    assert page.status_code == 400 and count(Order) == 0
    text = text_of(page)
    assert "Bénin, Burkina Faso, Côte d’Ivoire" in text and "+221 77 123 45 67" in text
