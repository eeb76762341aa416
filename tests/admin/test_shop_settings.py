"""Shop settings in the dashboard (issue 32): the merchant sets the name, contact, checkout notes,
about / returns / terms pages and footer links; customers see them at once, the gateways get the
name, and nothing of the demo's shows. Real HTTP."""
from __future__ import annotations

import re

from extensions import db
from models import ShopSettings
from simulator.state import STATE
from tests.admin.conftest import text_of
from tests.helpers import Shopper

SETTINGS = {
    "name": "Boutique Awa", "contact": "+226 70 00 00 01 · vente@boutique-awa.bf",
    "delivery_note": "Livraison à Ouaga le jour même.", "returns_note": "Échange sous 7 jours.",
    "about": "Nous vendons du wax depuis 2009.\n\nBoutique au marché Rood Woko.",
    "returns_policy": "", "terms": "Prix TTC. <script>alert(1)</script>",
    "footer_links": "WhatsApp | https://wa.me/22670000001\nFacebook | https://facebook.com/boutique.awa",
}


def save(admin, **changes):
    return admin.post("/admin/settings", {**SETTINGS, **changes}, csrf_from="/admin/settings")


def test_what_the_merchant_sets_is_what_customers_read(admin, base_url):
    assert save(admin).status_code == 303
    with Shopper(base_url) as customer:
        home = customer.get("/")
        assert "Boutique Awa" in text_of(home)
        assert 'href="https://wa.me/22670000001"' in home.text and "Facebook" in text_of(home)
        assert "/about" in home.text and "/terms" in home.text and "/returns" not in home.text
        about = customer.get("/about")
        assert about.status_code == 200
        assert about.text.count("<p>") >= 2 and "Rood Woko" in text_of(about)
        terms = customer.get("/terms")
        assert "<script>alert(1)</script>" not in terms.text and "&lt;script&gt;" in terms.text
        assert customer.get("/returns").status_code == 404  # left empty: no page
        customer.add_to_cart("pagne-wax-6-yards", 1)
        checkout = text_of(customer.get("/checkout"))
        for shown in ("+226 70 00 00 01 · vente@boutique-awa.bf", "Livraison à Ouaga le jour même.",
                      "Échange sous 7 jours."):
            assert shown in checkout
        assert "bonjour@comptoir.example" not in checkout
        assert customer.checkout(gateway="ligdicash").status_code == 303
    invoice = next(iter(STATE.invoices.values()))
    assert invoice.request["commande"]["store"]["name"] == "Boutique Awa"  # the gateway's page says it
    assert 'class="done" id="setup-contact"' in admin.get("/admin/").text


def test_a_bad_footer_link_is_refused_with_the_line_and_nothing_saved(admin):
    response = save(admin, footer_links="WhatsApp | https://wa.me/1\njavascript:alert(1)")
    assert response.status_code == 400 and "Line 2: write Label | https://" in text_of(response)
    assert db.session.get(ShopSettings, 1) is None


def test_empty_fields_fall_back_to_the_servers_settings(admin, app, base_url):
    app.config["SHOP_NAME"] = "Comptoir du Faso"
    assert save(admin, name="").status_code == 303
    with Shopper(base_url) as customer:
        assert "Comptoir du Faso" in text_of(customer.get("/"))
    assert 'value="Boutique Awa"' not in admin.get("/admin/settings").text


def _png(color=(194, 65, 12)) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (600, 200), color).save(out, "PNG")
    return out.getvalue()


def test_a_logo_replaces_the_name_in_the_header_and_can_be_removed(admin, base_url):
    response = admin.post("/admin/settings", SETTINGS, csrf_from="/admin/settings",
                          files={"logo": ("logo.png", _png(), "image/png")})
    assert response.status_code == 303
    row = db.session.get(ShopSettings, 1)
    assert row.logo_digest and row.logo_width == 600 and row.logo_height == 200
    with Shopper(base_url) as customer:
        home = customer.get("/").text
        assert '<picture class="logo">' in home and 'alt="Boutique Awa"' in home
        source = re.search(r'src="([^"]*/media/[^"]+)"', home.split('class="logo"')[1]).group(1)
        picture = customer.get(source)
        assert picture.status_code == 200 and picture.headers["Content-Type"].startswith("image/")
    assert save(admin, remove_logo="y").status_code == 303
    with Shopper(base_url) as customer:
        assert 'class="logo"' not in customer.get("/").text


def test_a_logo_that_is_not_a_picture_is_refused_and_nothing_saved(admin):
    response = admin.post("/admin/settings", SETTINGS, csrf_from="/admin/settings",
                          files={"logo": ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(ShopSettings, 1) is None
