"""Payment links (issue 19), over real HTTP with the simulated gateways: the merchant makes a
link in the dashboard, the customer pays it at /p/<code> through the same machinery as a
checkout; cancel and expiry give the stock back; the link follows its order."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from extensions import db, limiter
from links import payment_links as link_service
from merchant.accounts import save_admin
from models import Order, OrderLine, OutboxEmail, Payment, PaymentEvent, PaymentLink, Product, utcnow
from orders import states
from orders.lifecycle import due_for_expiry, expire_order
from tests.admin.conftest import EMAIL, PASSWORD, AdminActions
from tests.helpers import CUSTOMER, Shopper, set_stock, stock_of, text_of

LINK_PATH = re.compile(r"/admin/links/([a-z0-9]+)$")


@pytest.fixture
def admin(base_url, ctx):
    limiter.reset()
    save_admin(EMAIL, PASSWORD)
    browser = AdminActions(base_url)
    assert browser.login().status_code == 303
    yield browser
    browser.http.close()


def product_id(slug: str) -> int:
    return db.session.scalar(select(Product.id).where(Product.slug == slug))


def link_form(currency="XOF", products=(), free=(), **fields) -> dict:
    """The dashboard form's fields: ``products`` as (slug, qty), ``free`` as (text, amount[, qty])."""
    data = {"currency": currency, "language": "fr", "expiry_days": "7", "note": "", "customer_name": "",
            "customer_phone": "", "delivery_method": ""}
    for i, (slug, quantity) in enumerate(products):
        data[f"products-{i}-product_id"] = str(product_id(slug))
        data[f"products-{i}-quantity"] = str(quantity)
    for i, line in enumerate(free):
        data[f"free-{i}-text"], data[f"free-{i}-amount"] = line[0], line[1]
        if len(line) > 2:
            data[f"free-{i}-quantity"] = str(line[2])
    data.update(fields)
    return data


def make_link(admin: AdminActions, **kwargs) -> PaymentLink:
    response = admin.post("/admin/links/new", link_form(**kwargs), csrf_from="/admin/links/new")
    assert response.status_code == 303, text_of(response)[:1500]
    code = LINK_PATH.search(response.headers["Location"]).group(1)
    db.session.expire_all()
    return db.session.scalar(select(PaymentLink).where(PaymentLink.code == code))


def pay_form(shopper: Shopper, code: str, gateway: str = "ligdicash", **fields):
    data = {**CUSTOMER, "gateway": gateway, **fields}
    return shopper.post(f"/p/{code}", data, csrf_from=f"/p/{code}")


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# the merchant makes a link

def test_a_link_is_one_order_with_its_stock_reserved(admin):
    before = stock_of("savon-noir")
    link = make_link(admin, products=[("savon-noir", 2)], free=[("Retouche sur mesure", "2 500")],
                     customer_name="Awa", customer_phone="70 12 34 56", note="Livraison jeudi")
    order = link.order
    assert link.status == "open" and len(link.code) == link_service.CODE_LENGTH
    assert order.status == "pending" and order.currency == "XOF"
    assert [(line.name, line.unit_price, line.quantity, line.product_id is None) for line in order.lines] == [
        ("Savon noir traditionnel", 1500, 2, False), ("Retouche sur mesure", 2500, 1, True)]
    assert order.total == 1500 * 2 + 2500
    assert order.customer_phone == "+22670123456" and order.customer_name == "Awa"
    assert timedelta(days=6, hours=23) < order.expires_at - utcnow() <= timedelta(days=7)
    assert stock_of("savon-noir") == before - 2

    page = admin.get(f"/admin/links/{link.code}")
    assert page.status_code == 200
    whatsapp = re.search(r'id="whatsapp" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    parts = urlsplit(whatsapp)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/22670123456")
    message = parse_qs(parts.query)["text"][0]
    assert message.startswith("Bonjour Awa") and f"/p/{link.code}" in message and "5\u202f500" in message
    assert 'data-copy="#link-url"' in page.text and "js/copy.js" in page.text
    qr = admin.get(f"/admin/links/{link.code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    assert "<svg" in qr.text and "</svg>" in qr.text

    listing = admin.get("/admin/links/")
    assert link.code in listing.text and order.reference in listing.text
    assert link.code not in admin.get("/admin/links/?status=paid").text


def test_the_whatsapp_message_is_in_the_customers_language(admin):
    link = make_link(admin, currency="USD", free=[("Custom dress", "12.50")], language="en")
    message = link_service.share_message(link)
    assert message.startswith("Hello, here is your payment link") and "$12.50" in message
    url = re.search(r'id="whatsapp" href="([^"]+)"', admin.get(f"/admin/links/{link.code}").text).group(1)
    assert url.startswith("https://wa.me/?text=Hello")
    assert unquote(url.split("text=")[1]) == message


@pytest.mark.parametrize("amount, why", [
    ("12.505", "at most 2 decimal"), ("abc", "Write an amount"), ("-5", "Write an amount"),
    ("0", "above zero"), ("1e3", "Write an amount"), ("10000000000.01", "too large"),
    ("NaN", "Write an amount"),
])
def test_free_line_amounts_are_exact_and_bounded(admin, amount, why):
    response = admin.post("/admin/links/new", link_form(currency="USD", free=[("Robe", amount)]),
                          csrf_from="/admin/links/new")
    assert response.status_code == 400 and why in text_of(response)
    assert db.session.scalar(select(PaymentLink.id)) is None


def test_amounts_parse_without_floats():
    assert link_service.parse_amount("12.50", "USD") == 1250
    assert link_service.parse_amount("0.10", "NGN") == 10
    assert link_service.parse_amount("1 500", "XOF") == 1500
    assert link_service.parse_amount("10000000000", "USD") == link_service.MAX_AMOUNT
    with pytest.raises(link_service.LinkError):
        link_service.parse_amount("1500.5", "XOF")
    with pytest.raises(link_service.LinkError):
        link_service.parse_amount("1000000000001", "XOF")


def test_a_link_that_cannot_be_sold_stores_nothing(admin):
    set_stock("savon-noir", 1)
    response = admin.post("/admin/links/new", link_form(products=[("savon-noir", 3)]), csrf_from="/admin/links/new")
    assert response.status_code == 400 and "not enough stock" in text_of(response)
    empty = admin.post("/admin/links/new", link_form(), csrf_from="/admin/links/new")
    assert empty.status_code == 400 and "at least one product" in text_of(empty)
    bad_phone = admin.post("/admin/links/new", link_form(free=[("X", "100")], customer_phone="12"),
                           csrf_from="/admin/links/new")
    assert bad_phone.status_code == 400
    assert db.session.scalar(select(PaymentLink.id)) is None and db.session.scalar(select(Order.id)) is None
    assert stock_of("savon-noir") == 1


def test_the_dashboard_links_need_a_signed_in_merchant(base_url, ctx):
    with Shopper(base_url) as anonymous:
        for path in ("/admin/links/", "/admin/links/new", "/admin/links/abc/qr.svg"):
            response = anonymous.get(path, allow_redirects=False)
            assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# the customer pays

def test_customer_pays_a_link_declined_then_paid(admin, shopper):
    link = make_link(admin, products=[("savon-noir", 1)], free=[("Retouche", "2500")], note="Merci Awa !")
    page = shopper.get(f"/p/{link.code}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Paiement à Comptoir" in text and "Retouche" in text and "Savon noir traditionnel" in text
    assert "4 000" in text and "Merci Awa !" in text and "LigdiCash" in text
    assert "PayUnit" not in text  # only the gateways that take XOF

    bad = pay_form(shopper, link.code, phone="12")
    assert bad.status_code == 400
    declined = shopper.on_gateway_page(pay_form(shopper, link.code), action="decline")
    assert declined.status_code == 200
    order = reload(link.order)
    assert order.status == "pending" and [p.status for p in order.payments] == ["failed"]
    assert order.customer_email == CUSTOMER["email"] and order.customer_phone == "+22670123456"

    again = shopper.get(f"/p/{link.code}")  # the link still takes a payment
    assert again.status_code == 200
    shopper.on_gateway_page(pay_form(shopper, link.code), action="pay")
    order = reload(link.order)
    assert order.status == "paid" and reload(link).status == "paid"
    assert [(p.status, p.amount) for p in order.payments] == [("failed", 4000), ("succeeded", 4000)]
    kinds = set(db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.order_id == order.id)))
    assert {"confirmation", "receipt"} <= kinds

    paid = shopper.get(f"/p/{link.code}", allow_redirects=False)
    assert paid.status_code == 303 and paid.headers["Location"].endswith(f"/orders/{order.token}")
    assert "paid" in text_of(admin.get(f"/admin/links/{link.code}"))
    assert link.code in admin.get("/admin/links/?status=paid").text
    notes = db.session.scalars(select(PaymentEvent.note).where(PaymentEvent.order_id == order.id)).all()
    assert any(n.startswith("link open → paid") for n in notes)


def test_a_double_submit_opens_one_attempt(admin, shopper):
    link = make_link(admin, free=[("Robe", "15000")])
    first = pay_form(shopper, link.code)
    second = pay_form(shopper, link.code)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(reload(link.order).payments) == 1


def test_the_link_page_speaks_the_customers_language(admin, base_url, ctx):
    link = make_link(admin, currency="USD", free=[("Custom dress", "12.50")], language="en")
    with Shopper(base_url) as customer:
        text = text_of(customer.get(f"/p/{link.code}"))
        assert "Payment to Comptoir" in text and "$12.50" in text
        customer.post("/language", {"language": "fr", "next": f"/p/{link.code}"})
        assert "Paiement à Comptoir" in text_of(customer.get(f"/p/{link.code}"))


def test_unknown_codes_are_404(shopper):
    assert shopper.get("/p/nosuchlink").status_code == 404
    assert shopper.get("/p/" + "a" * 200).status_code == 404


# cancel, expiry, and the link following its order

def test_cancelling_a_link_cancels_its_order_and_gives_the_stock_back(admin, shopper):
    before = stock_of("savon-noir")
    link = make_link(admin, products=[("savon-noir", 3)])
    pay_form(shopper, link.code)  # an attempt in flight is ended too
    assert stock_of("savon-noir") == before - 3
    response = admin.post(f"/admin/links/{link.code}/cancel", csrf_from=f"/admin/links/{link.code}")
    assert response.status_code == 303
    assert reload(link).status == "cancelled" and reload(link.order).status == "cancelled"
    assert [p.status for p in reload(link.order).payments] == ["cancelled"]
    assert stock_of("savon-noir") == before
    page = shopper.get(f"/p/{link.code}")
    assert page.status_code == 410 and "annulé" in text_of(page) and 'id="contact-shop"' in page.text
    again = admin.post(f"/admin/links/{link.code}/cancel", csrf_from=f"/admin/links/{link.code}")
    assert "cannot be cancelled" in text_of(admin.get(again.headers["Location"]))
    assert stock_of("savon-noir") == before


def test_cancelling_the_order_in_the_dashboard_cancels_the_link(admin):
    link = make_link(admin, free=[("Robe", "15000")])
    admin.post(f"/admin/orders/{link.order.reference}/cancel", csrf_from=f"/admin/orders/{link.order.reference}")
    assert reload(link.order).status == "cancelled" and reload(link).status == "cancelled"


def test_an_expired_link_says_so_and_its_stock_is_back(admin, shopper):
    before = stock_of("savon-noir")
    link = make_link(admin, products=[("savon-noir", 2)], expiry_days="1")
    order = reload(link.order)
    order.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = shopper.get(f"/p/{link.code}")
    assert page.status_code == 410 and "expiré" in text_of(page)
    assert reload(link).status == "expired" and reload(link.order).status == "expired"
    assert stock_of("savon-noir") == before


def test_reconciliation_expiring_the_order_expires_the_link(admin):
    link = make_link(admin, products=[("savon-noir", 1)])
    order = reload(link.order)
    order.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert [o.id for o in due_for_expiry()] == [order.id]
    assert expire_order(order)
    assert reload(link).status == "expired"


def test_the_link_machine_is_registered_with_the_state_owner():
    assert states.MACHINES[states.LinkStatus].name == "link"
    assert states.allowed("open", states.LinkStatus.PAID)
    assert not states.allowed("paid", states.LinkStatus.CANCELLED)
    assert not states.allowed("cancelled", states.LinkStatus.OPEN)
    from models import LINK_STATUSES

    assert set(LINK_STATUSES) == {s.value for s in states.LinkStatus}


def test_a_paid_link_cannot_be_cancelled(admin, shopper):
    link = make_link(admin, free=[("Robe", "15000")])
    shopper.on_gateway_page(pay_form(shopper, link.code), action="pay")
    assert reload(link).status == "paid"
    assert not link_service.cancel_link(reload(link), actor="test")
    assert reload(link.order).status == "paid"
    free_lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == link.order_id)).all()
    assert [line.product_id for line in free_lines] == [None]
    assert db.session.scalar(select(Payment.amount).where(Payment.order_id == link.order_id)) == 15000


def test_the_customer_cannot_change_what_is_paid(admin, shopper):
    link = make_link(admin, free=[("Robe", "15000")])
    wrong_gateway = pay_form(shopper, link.code, gateway="payunit")  # XAF only
    assert wrong_gateway.status_code == 400 and not reload(link.order).payments
    unknown = pay_form(shopper, link.code, gateway="nosuch")
    assert unknown.status_code == 400
    nul = pay_form(shopper, link.code, name="Awa\x00")
    assert nul.status_code == 400
    tampered = pay_form(shopper, link.code, amount="1", total="1", currency="USD")
    assert tampered.status_code == 303
    payment = reload(link.order).payments[0]
    assert (payment.amount, payment.currency) == (15000, "XOF")


# delivery on a link (issue 18's zones and pickup points)

def test_a_link_can_carry_a_home_delivery_whose_fee_the_gateway_receives(admin):
    from models import DeliveryZone
    from simulator.state import STATE

    zone = db.session.scalars(select(DeliveryZone).where(DeliveryZone.currency == "XOF",
                                                          DeliveryZone.active.is_(True))).first()
    choices = dict(link_service.delivery_choices("XOF"))
    assert f"zone:{zone.id}" in choices and choices[f"zone:{zone.id}"].startswith("Home delivery")
    link = make_link(admin, products=[("savon-noir", 1)], delivery_method=f"zone:{zone.id}")
    order = link.order
    fee = zone.fee if not zone.free_from or order.subtotal < zone.free_from else 0
    assert fee > 0 and order.delivery_fee == fee and order.total == order.subtotal + fee
    assert order.delivery_method == "home" and order.delivery_label == zone.name
    with Shopper(admin.base_url) as customer:
        response = pay_form(customer, link.code)
        assert response.status_code == 303
    sent = next(iter(STATE.invoices.values())).request
    assert sent["commande"]["invoice"]["total_amount"] == order.total
    assert any(item["total_price"] == fee for item in sent["commande"]["invoice"]["items"])


def test_a_link_can_carry_a_pickup_point_with_its_address_and_hours(admin):
    from models import PickupPoint

    point = db.session.scalars(select(PickupPoint).where(PickupPoint.currency == "XOF",
                                                         PickupPoint.active.is_(True))).first()
    link = make_link(admin, products=[("savon-noir", 1)], delivery_method=f"point:{point.id}")
    order = link.order
    assert (order.delivery_method, order.delivery_fee, order.total) == ("pickup", 0, order.subtotal)
    assert (order.pickup_point_id, order.delivery_zone_id, order.delivery_label) == (point.id, None, point.name)
    assert order.delivery_address == f"{point.address}, {point.opening_hours}" and order.delivery_city == ""


def test_a_link_refuses_another_markets_delivery(admin):
    from models import PickupPoint

    point = db.session.scalars(select(PickupPoint).where(PickupPoint.currency == "XAF")).first()
    response = admin.post("/admin/links/new", link_form(products=[("savon-noir", 1)],
                                                        delivery_method=f"point:{point.id}"),
                          csrf_from="/admin/links/new")
    assert response.status_code == 400 and db.session.scalar(select(PaymentLink.id)) is None
