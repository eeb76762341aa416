"""Issue 32: the merchant runs the shop from a phone. The dashboard's working pages (*To fulfil*,
*Payment links*, *Delivery*, *Needs attention*) never scroll sideways at 390 px, nor on a desktop,
with rows in every table. Screenshots of each page at both sizes go to $DASHBOARD_SHOTS
(default /tmp/helperA-shots/) to be looked at."""
from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.references import new_reference
from extensions import db
from links.payment_links import FreeLine, LinkRequest, ProductLine, create_link
from models import DeliveryZone, Order, OrderLine, Payment, PaymentEvent, PickupPoint, Product, utcnow
from tests.e2e.conftest import PHONE, _finish, _new_page
from tests.e2e.merchant import sign_in

SHOTS = Path(os.environ.get("DASHBOARD_SHOTS", Path(tempfile.gettempdir()) / "comptoir-dashboard-shots"))
PAGES = {"to-fulfil": "/admin/fulfil", "links": "/admin/links/", "delivery": "/admin/delivery",
         "attention": "/admin/attention", "overview": "/admin/", "categories": "/admin/categories",
         "settings": "/admin/settings", "products-low": "/admin/products?low=1",
         "product": "/admin/products/slug:kitenge-chemise", "variants": "/admin/products/slug:kitenge-chemise/variants",
         "promos": "/admin/promos", "promo-form": "/admin/promos/new",
         "jobs": "/admin/jobs"}
#: Each page's table that must have a row of data (not the "nothing yet" line).
ROWS = {"to-fulfil": "#to-fulfil tbody tr:not(.empty)", "links": "#links tbody tr[data-code]",
        "delivery": "#zones tbody tr:not(.empty)", "attention": "#flagged tbody tr:not(.empty)",
        "overview": "#setup li", "categories": "#categories tbody tr", "settings": "form.settings-form textarea",
        "products-low": "#products tbody tr", "product": "#variants-link", "variants": ".variant-row",
        "promos": "#promos tbody tr", "promo-form": "#promo-form",
        "jobs": "#jobs-inline"}  # no queue in the suite's server: the page says so
SIZES = {"phone": PHONE, "desktop": {"viewport": {"width": 1280, "height": 800}}}


def _order(name: str, phone: str, *, status: str, minutes_ago: int, **columns) -> Order:
    product = db.session.scalar(select(Product).where(Product.slug == "savon-noir"))
    now = utcnow()
    order = Order(
        reference=new_reference("CMD"), token=new_reference("T", 30), checkout_key=new_reference("K", 30),
        currency="XOF", subtotal=3000, total=3000, customer_name=name,
        customer_email=f"{name.split()[0].lower()}.long-address-for-a-phone@example.bf",
        customer_phone=phone, status=status, created_at=now - timedelta(minutes=minutes_ago),
        expires_at=now + timedelta(minutes=30), paid_at=now if status == "paid" else None,
        lines=[OrderLine(product_id=product.id, name=product.name, unit_price=1500, quantity=2, line_total=3000)],
        **columns)
    db.session.add(order)
    return order


def seed_dashboard() -> None:
    """Rows on every page: paid orders to fulfil (home and pickup), payment links, zones and points
    (the demo's, plus one with long words), a stuck payment, a flagged one and a rejected callback."""
    zone = db.session.scalar(select(DeliveryZone).where(DeliveryZone.currency == "XOF"))
    point = db.session.scalar(select(PickupPoint).where(PickupPoint.currency == "XOF"))
    db.session.add(PickupPoint(currency="XOF", name="Boutique Ouaga 2000 — entrée principale",
                               address="Avenue Kwame N'Krumah, immeuble SONAR, 2e étage, porte 12, Ouagadougou",
                               opening_hours="Lundi–samedi 8 h–19 h, dimanche 9 h–13 h", position=9))
    for i in range(3):
        _order(f"Awa Ouédraogo {i}", f"+2267012345{i}", status="paid", minutes_ago=60 - i,
               fulfilment_status="unfulfilled", delivery_method="home", delivery_zone_id=zone.id,
               delivery_label=zone.name, delivery_city="Ouaga 2000", delivery_fee=zone.fee,
               delivery_address="Derrière la pharmacie du Progrès, portail bleu")
    _order("Issouf Sawadogo-Kaboré", "+22676543210", status="paid", minutes_ago=30,
           fulfilment_status="preparing", delivery_method="pickup", pickup_point_id=point.id,
           delivery_label=point.name)
    stuck = _order("Mariam Traoré", "+22670000001", status="pending", minutes_ago=90)
    stuck.payments.append(Payment(reference=new_reference("PAY", 12), gateway="ligdicash", status="pending",
                                  amount=3000, currency="XOF", gateway_ref="LGD-INVOICE-0123456789abcdef",
                                  created_at=utcnow() - timedelta(minutes=90)))
    flagged = _order("Fatimata Zongo", "+22670000002", status="paid", minutes_ago=20)
    payment = Payment(reference=new_reference("PAY", 12), gateway="payunit", status="succeeded", amount=3000,
                      currency="XOF", gateway_ref="PU-0123456789abcdef0123456789", attention_kind="amount_mismatch",
                      attention_amount=2500, attention_expected=3000,
                      attention="the gateway reported 2 500 F CFA for an order of 3 000 F CFA")
    flagged.payments.append(payment)
    db.session.flush()
    db.session.add(PaymentEvent(gateway="ligdicash", kind="callback", payload='{"token": "unknown"}',
                                note="bad signature: the callback's hash does not match LIGDICASH_API_KEY",
                                rejection="bad_signature"))
    db.session.commit()
    savon = db.session.scalar(select(Product.id).where(Product.slug == "savon-noir"))
    create_link(LinkRequest("XOF", products=[ProductLine(savon, 1)], customer_name="Aminata Compaoré-Ilboudo",
                            customer_phone="+22670998877", note="Commande WhatsApp du matin"),
                actor="merchant@example.bf")
    create_link(LinkRequest("XOF", free=[FreeLine("Retouche d'une robe en wax, ourlet et boutons", 2500)]),
                actor="merchant@example.bf")


@pytest.fixture
def seeded(app):
    with app.app_context():
        seed_dashboard()
        db.session.remove()


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_pages_never_scroll_sideways(browser, base_url, app, seeded, size, request):
    context, page = _new_page(browser, base_url, request, **SIZES[size])
    try:
        sign_in(page, app)
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        widths = {}
        with app.app_context():
            shirt = db.session.scalar(select(Product.id).where(Product.slug == "kitenge-chemise"))
        for name, path in PAGES.items():
            page.goto(path.replace("slug:kitenge-chemise", str(shirt)))
            expect(page.locator(ROWS[name]).first).to_be_visible()
            page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
            widths[name] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        # A phone's window grows to the content when a page overflows: hold it to the screen's width.
        width = SIZES[size]["viewport"]["width"]
        too_wide = {name: w for name, w in widths.items() if w[0] > min(w[1], width)}
        print(size, widths)
        assert not too_wide, f"scrolls sideways (scrollWidth, innerWidth): {too_wide}"
    finally:
        _finish(context, page, request)  # console errors, CSP violations, failed requests fail it
