"""Issue 10: every customer page in French and English, chosen with the switcher."""
from __future__ import annotations

import re
from html import unescape

import pytest
from babel.messages.pofile import read_po

from models import Order
from simulator.state import STATE
from tests.helpers import only_order, text_of
from tests.i18n.conftest import PO

#: Words each page must show, per language (what a customer would look for).
HEADER = {"fr": ["Mes commandes", "Panier", "Marché", "Rechercher"], "en": ["My orders", "Cart", "Market", "Search"]}


def english_leftovers(text: str) -> list[str]:
    """Catalogue sentences that a French page still shows in English (whole msgids, no placeholders)."""
    with PO.open("rb") as source:
        catalog = read_po(source)
    return [m.id for m in catalog if isinstance(m.id, str) and m.id and "%(" not in m.id
            and " " in m.id and m.string != m.id and m.id in text]


def lang_of(page) -> str:
    return re.search(r'<html lang="([a-z]+)">', page.text).group(1)


def check(page, language: str, *phrases: str, status: int = 200) -> str:
    """The page answered ``status``, says it is in ``language``, shows ``phrases`` and no English in French."""
    assert page.status_code == status, page.text[:300]
    assert lang_of(page) == language
    text = text_of(page)
    markup = unescape(page.text)  # buttons' values and placeholders are not in the text
    for phrase in [*HEADER[language], *phrases]:
        assert phrase in text or phrase in markup, (phrase, text[:600])
    if language == "fr":
        assert english_leftovers(text) == []
    return text


CATALOGUE = {"fr": ["Catalogue", "Ajouter au panier", "Rupture de stock", "Tout"],
             "en": ["Catalogue", "Add to cart", "Out of stock", "All"]}


def test_catalogue_category_and_search(any_language):
    language, shopper = any_language
    check(shopper.get("/"), language, *CATALOGUE[language])
    check(shopper.get("/?category=beaute"), language, "Savon noir")
    nothing = {"fr": "Aucun produit ne correspond à « zzz » en XOF.", "en": "No product matches “zzz” in XOF."}
    assert nothing[language] in check(shopper.get("/?q=zzz"), language).replace("\xa0", " ")


def test_product_page(any_language):
    language, shopper = any_language
    words = {"fr": ["Quantité", "Ajouter au panier", "disponibles"], "en": ["Quantity", "Add to cart", "in stock"]}
    check(shopper.get("/products/pagne-wax-6-yards"), language, *words[language])


def test_cart_empty_and_full(any_language):
    language, shopper = any_language
    empty = {"fr": ["Votre panier est vide."], "en": ["Your cart is empty."]}
    check(shopper.get("/cart"), language, *empty[language])
    shopper.add_to_cart("cafe-rwanda", 2)
    full = {"fr": ["Votre panier", "2 articles", "Prix unitaire", "Total de la ligne", "Mettre à jour", "Retirer",
                   "Commander"],
            "en": ["Your cart", "2 items", "Unit price", "Line total", "Update", "Remove", "Checkout"]}
    check(shopper.get("/cart"), language, *full[language])


def test_checkout_page_and_its_errors(any_language):
    language, shopper = any_language
    shopper.add_to_cart("cafe-rwanda")
    labels = {"fr": ["Nom et prénom", "E-mail", "Téléphone (avec l’indicatif du pays)", "Moyen de paiement",
                     "Payer 4", "Récapitulatif de la commande", "Cartes bancaires", "Livraison", "Retours",
                     "Connexion au prestataire de paiement…"],
              "en": ["Full name", "Email", "Phone (with country code)", "Payment method", "Pay 4", "Order summary",
                     "Bank cards", "Delivery", "Returns", "Connecting to the payment provider…"]}
    check(shopper.get("/checkout"), language, *labels[language])
    errors = {"fr": ["Ce champ est requis.", "Adresse e-mail non valide.", "Chiffres uniquement"],
              "en": ["This field is required.", "Invalid email address.", "Digits only"]}
    page = shopper.checkout(name="", email="nope", phone="call me")
    check(page, language, *errors[language], status=400)


def test_my_orders_and_order_page_while_paying_at_a_gateway_that_does_not_return(any_language):
    language, shopper = any_language
    shopper.set_market("RWF")  # IremboPay: no browser return (PayUnit now brings the customer back)
    shopper.add_to_cart("cafe-rwanda")
    shopper.checkout("irembopay")
    order = only_order()
    words = {"fr": ["Commande", "Payer sur IremboPay", "Continuer sur IremboPay pour payer", "Payer autrement",
                    "Seulement si vous n’avez pas payé", "Vos articles vous sont réservés jusqu’au",
                    "Tentatives de paiement", "en cours", "Articles", "Passée le"],
             "en": ["Order", "Pay on IremboPay", "Continue to IremboPay to pay", "Pay another way",
                    "Only if you have not paid", "Your items are kept for you until",
                    "Payment attempts", "pending", "Items", "Placed on"]}
    check(shopper.get(f"/orders/{order.token}"), language, *words[language])
    mine = {"fr": ["Mes commandes", order.reference, "en attente"], "en": ["My orders", order.reference, "pending"]}
    check(shopper.get("/orders"), language, *mine[language])


@pytest.mark.parametrize("action,words", [
    ("pay", {"fr": ["Paiement reçu — merci", "Une confirmation est envoyée à"],
             "en": ["Payment received — thank you!", "A confirmation goes to"]}),
    ("decline", {"fr": ["Le paiement n’a pas abouti", "Réessayer", "échoué"],
                 "en": ["The payment did not go through", "Try again", "failed"]}),
    ("cancel", {"fr": ["Paiement annulé", "Vos articles vous sont réservés jusqu’au"],
                "en": ["Payment cancelled", "Your items are kept for you until"]}),
])
def test_order_page_after_the_gateway(any_language, action, words):
    language, shopper = any_language
    landing = shopper.on_gateway_page(shopper.buy("savon-noir"), action)
    check(shopper.get(landing.headers.get("Location") or f"/orders/{only_order().token}"), language, *words[language])


def test_expired_order_page(any_language, ctx):
    from datetime import timedelta

    from extensions import db
    from orders.lifecycle import expire_order

    language, shopper = any_language
    shopper.buy("savon-noir")
    order = only_order()
    expire_order(order, now=order.expires_at + timedelta(seconds=1))
    words = {"fr": ["Cette commande a expiré", "Refaire vos achats"], "en": ["This order has expired", "Shop again"]}
    check(shopper.get(f"/orders/{order.token}"), language, *words[language])
    assert db.session.get(Order, order.id).status == "expired"


def test_error_pages(any_language):
    language, shopper = any_language
    missing = {"fr": ["Page introuvable", "Retour à la boutique"], "en": ["Page not found", "Back to the shop"]}
    check(shopper.get("/products/nope"), language, *missing[language], status=404)
    check(shopper.get("/nope"), language, *missing[language], status=404)
    expired = {"fr": ["Ce formulaire a expiré"], "en": ["This form has expired"]}
    check(shopper.post("/cart/add", {"product_id": 1, "quantity": 1}, csrf=False), language, *expired[language],
          status=400)


def test_flash_messages_follow_the_language(any_language):
    language, shopper = any_language
    added = shopper.add_to_cart("cafe-rwanda")
    text = text_of(shopper.get(added.headers["Location"]))
    assert {"fr": "Café du Rwanda a été ajouté à votre panier.", "en": "Café du Rwanda added to your cart."}[language] in text
    shopper.add_to_cart("cafe-rwanda", 50)
    text = text_of(shopper.get("/"))
    assert {"fr": "Vous pouvez acheter au maximum", "en": "You can buy at most"}[language] in text


def test_payment_start_failure_is_told_in_the_customers_language(any_language):
    language, shopper = any_language
    STATE.set_faults("ligdicash", create="http500")
    page = shopper.buy("savon-noir")
    text = text_of(page)
    assert {"fr": "Impossible de joindre LigdiCash pour le moment. Votre panier est conservé",
            "en": "LigdiCash could not be reached just now. Your cart is saved"}[language] in text.replace("\xa0", " ")
