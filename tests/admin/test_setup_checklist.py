"""The setup checklist (issue 32): a new shop's overview says what is still missing and how to
fix it, step by step; production never shows the demo contact to customers. Real HTTP."""
from __future__ import annotations

from sqlalchemy import update

from extensions import db
from models import Category, DeliveryZone, PickupPoint
from tests.admin.conftest import text_of
from tests.test_config import STRONG, run_python


def test_a_new_shop_is_told_every_missing_step(admin, app):
    db.session.execute(update(Category).values(active=False))
    db.session.execute(update(DeliveryZone).values(active=False))
    db.session.execute(update(PickupPoint).values(active=False))
    db.session.commit()
    page = admin.get("/admin/").text
    text = text_of(admin.get("/admin/"))
    assert "Before the shop can sell: 6 of 7 step(s) to do" in text  # products are on sale
    for key in ("contact", "merchant_email", "mail_server", "gateway", "category", "delivery"):
        assert f'class="todo" id="setup-{key}"' in page
    assert 'class="done" id="setup-product"' in page
    assert "contact in Settings" in text and "Set MERCHANT_EMAIL" in text and "Set MAIL_SERVER" in text


def test_a_ready_shop_shows_no_checklist(admin, app):
    app.config.update(SHOP_CONTACT="+226 70 00 00 01 · vente@boutique.bf", MERCHANT_EMAIL="vente@boutique.bf",
                      MAIL_SERVER="smtp.example.com", LIGDICASH_API_KEY="live-key", LIGDICASH_API_TOKEN="live-token")
    assert "Before the shop can sell" not in text_of(admin.get("/admin/"))


def test_production_never_shows_the_demo_contact():
    shown = run_python("from config import ProductionConfig; print(repr(ProductionConfig.SHOP_CONTACT))",
                       {"SECRET_KEY": STRONG})
    assert shown.stdout.strip() == "''"
    given = run_python("from config import ProductionConfig; print(ProductionConfig.SHOP_CONTACT)",
                       {"SECRET_KEY": STRONG, "SHOP_CONTACT": "+226 70 00 00 01"})
    assert given.stdout.strip() == "+226 70 00 00 01"
