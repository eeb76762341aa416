"""Issue 10: the language comes from the switcher, else Accept-Language, else DEFAULT_LOCALE."""
from __future__ import annotations

import re

import pytest

from tests.helpers import only_order, text_of


def lang_of(page) -> str:
    return re.search(r'<html lang="([a-z]+)">', page.text).group(1)


def test_switcher_is_a_csrf_form_that_is_remembered(shopper):
    page = shopper.get("/cart")
    assert re.search(r'<form class="language" action="/language" method="post"', page.text)
    assert 'name="language" value="fr"' in page.text and 'name="language" value="en"' in page.text
    switched = shopper.post("/language", {"language": "fr", "next": "/cart"})
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/cart")
    landing = shopper.get("/cart")
    assert lang_of(landing) == "fr" and "La boutique est maintenant en français." in text_of(landing)
    assert lang_of(shopper.get("/")) == "fr"  # remembered for the next pages
    shopper.post("/language", {"language": "en"})
    page = shopper.get("/")
    assert lang_of(page) == "en" and "The shop is now in English." in text_of(page)


def test_switcher_refuses_without_csrf_and_unknown_languages(shopper):
    assert shopper.post("/language", {"language": "fr"}, csrf=False).status_code == 400
    assert lang_of(shopper.get("/")) == "en"
    shopper.post("/language", {"language": "de"})
    page = shopper.get("/")
    assert lang_of(page) == "en" and "Unknown language." in text_of(page)


def test_switcher_sends_back_to_local_pages_only(shopper):
    response = shopper.post("/language", {"language": "fr", "next": "//evil.example/"})
    assert response.headers["Location"].endswith("/")
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize("header,language", [
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
    ("fr-CM", "fr"),
    ("en-NG,en;q=0.9", "en"),
    ("rw-RW,rw;q=0.9,fr;q=0.5,en;q=0.3", "fr"),
    ("de-DE", "en"),  # neither: the shop's default (English in the test configuration)
])
def test_accept_language_when_nothing_was_chosen(shopper, header, language):
    shopper.http.headers["Accept-Language"] = header
    assert lang_of(shopper.get("/")) == language


def test_the_choice_beats_the_browser(shopper):
    shopper.http.headers["Accept-Language"] = "fr-FR"
    shopper.post("/language", {"language": "en"})
    assert lang_of(shopper.get("/")) == "en"


def test_default_locale_when_the_browser_says_nothing(app, shopper):
    """The shop's DEFAULT_LOCALE (fr out of the box) decides when there is no choice and no header."""
    from config import Config

    assert Config.DEFAULT_LOCALE == "fr" or "DEFAULT_LOCALE" in __import__("os").environ
    app.config["DEFAULT_LOCALE"] = "fr"  # restored by the fresh_database fixture
    page = shopper.get("/")
    assert lang_of(page) == "fr" and "Ajouter au panier" in text_of(page)


def test_dashboard_still_renders_in_french_mode(app, shopper):
    """The dashboard stays English but runs under the same locale selection."""
    shopper.post("/language", {"language": "fr"})
    assert shopper.get("/admin/login").status_code == 200


@pytest.mark.parametrize("language,gateway_language", [("fr", "FR"), ("en", "EN")])
def test_the_order_keeps_the_language_and_the_gateway_gets_it(shopper, language, gateway_language):
    """Order.language is the page's language at checkout; IremboPay localises its page with it."""
    from simulator.state import STATE

    shopper.post("/language", {"language": language})
    shopper.set_market("RWF")
    shopper.add_to_cart("cafe-rwanda")
    shopper.checkout("irembopay", phone="0781234567")
    order = only_order()
    assert order.language == language
    assert STATE.get(order.payments[0].gateway_ref).request["language"] == gateway_language


def test_order_e_mail_is_in_the_customers_language(french):
    from sqlalchemy import select

    from extensions import db
    from models import OutboxEmail

    french.buy("savon-noir")
    order = only_order()
    assert order.language == "fr"
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.order_id == order.id,
                                                        OutboxEmail.kind == "confirmation"))
    assert email.language == "fr" and email.subject == f"Votre commande {order.reference}"
    assert "Bonjour Awa Ouédraogo," in email.body_text and "Merci pour votre commande" in email.body_text
