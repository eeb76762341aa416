"""The merchant's side of delivery (issue 18): zones and points, the "To fulfil" queue,
forward-only fulfilment actions logged with who did them, the packing slip, CSV and filters."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from delivery import options as delivery
from extensions import db
from models import DeliveryZone, Order, PaymentEvent, PickupPoint, utcnow
from tests.admin.conftest import EMAIL, make_orders, text_of


def with_delivery(order: Order, method: str = "home", fulfilment: str = "unfulfilled") -> Order:
    """Give a test order a delivery (as checkout would have) and a fulfilment status."""
    currency = order.currency
    if method == "home":
        zone = db.session.scalars(select(DeliveryZone).where(DeliveryZone.currency == currency)).first()
        order.delivery_zone_id, order.delivery_label, order.delivery_fee = zone.id, zone.name, zone.fee
        order.delivery_city, order.delivery_address = "Ouaga 2000", "Derrière la pharmacie, portail bleu"
        order.total = order.subtotal + zone.fee
    else:
        point = db.session.scalars(select(PickupPoint).where(PickupPoint.currency == currency)).first()
        order.pickup_point_id, order.delivery_label, order.delivery_address = point.id, point.name, point.address
    order.delivery_method, order.fulfilment_status = method, fulfilment
    db.session.commit()
    return order


def paid_orders(n: int, **kwargs) -> list[Order]:
    return make_orders(n, status="paid", payment_status="succeeded", **kwargs)


def test_zone_crud_in_minor_units_and_deactivate(admin, ctx):
    response = admin.post("/admin/delivery/zones/new", {
        "currency": "NGN", "name": "Abuja", "fee": "3 500.50", "free_from": "", "delay_min_days": "2",
        "delay_max_days": "4", "position": "9", "active": "y"}, csrf_from="/admin/delivery/zones/new")
    assert response.status_code == 303
    zone = db.session.scalars(select(DeliveryZone).where(DeliveryZone.name == "Abuja")).one()
    assert (zone.currency, zone.fee, zone.free_from, zone.active) == ("NGN", 350050, None, True)
    assert "Abuja" in text_of(admin.get("/admin/delivery"))

    edit = admin.post(f"/admin/delivery/zones/{zone.id}", {
        "currency": "NGN", "name": "Abuja (FCT)", "fee": "0", "free_from": "100000", "delay_min_days": "2",
        "delay_max_days": "5", "position": "9", "active": "y"}, csrf_from=f"/admin/delivery/zones/{zone.id}")
    assert edit.status_code == 303
    db.session.expire_all()
    assert (zone.name, zone.fee, zone.free_from) == ("Abuja (FCT)", 0, 10000000)

    assert admin.post(f"/admin/delivery/zones/{zone.id}/deactivate", csrf_from="/admin/delivery").status_code == 303
    db.session.expire_all()
    assert zone.active is False
    assert all(o.name != "Abuja (FCT)" for o in delivery.options("NGN", 1000))


def test_zone_form_errors_are_400_not_500(admin, ctx):
    for bad in ({"fee": "-5"}, {"fee": "abc"}, {"fee": "1.5"}, {"delay_min_days": "5", "delay_max_days": "2"},
                {"name": ""}, {"currency": "EUR"}):
        data = {"currency": "XOF", "name": "Koudougou", "fee": "2000", "delay_min_days": "1",
                "delay_max_days": "3", "active": "y", **bad}
        response = admin.post("/admin/delivery/zones/new", data, csrf_from="/admin/delivery/zones/new")
        assert response.status_code == 400, bad
    assert db.session.scalars(select(DeliveryZone).where(DeliveryZone.name == "Koudougou")).first() is None


def test_pickup_point_crud(admin, ctx):
    response = admin.post("/admin/delivery/points/new", {
        "currency": "XAF", "name": "Relais Bastos", "address": "Rue 1.750, face ambassade, Yaoundé",
        "opening_hours": "Lun–ven 9 h–17 h", "active": "y"}, csrf_from="/admin/delivery/points/new")
    assert response.status_code == 303
    point = db.session.scalars(select(PickupPoint).where(PickupPoint.name == "Relais Bastos")).one()
    assert any(o.name == "Relais Bastos" for o in delivery.options("XAF", 1000))
    admin.post(f"/admin/delivery/points/{point.id}", {
        "currency": "XAF", "name": "Relais Bastos", "address": "Rue 1.750, Yaoundé", "opening_hours": ""},
        csrf_from=f"/admin/delivery/points/{point.id}")  # "active" unticked: deactivated
    db.session.expire_all()
    assert point.active is False and point.address == "Rue 1.750, Yaoundé"


def test_to_fulfil_queue_is_paid_waiting_oldest_first(admin, ctx):
    old, new, done = paid_orders(3)
    old.paid_at, new.paid_at = utcnow() - timedelta(days=2), utcnow() - timedelta(hours=1)
    with_delivery(old, "pickup")
    with_delivery(new, "home", "preparing")
    with_delivery(done, "home", "shipped")
    pending = with_delivery(make_orders(1)[0], "home", "not_applicable")
    page = admin.get("/admin/fulfil").text
    assert old.reference in page and new.reference in page
    assert done.reference not in page and pending.reference not in page
    assert page.index(old.reference) < page.index(new.reference)


def test_fulfilment_actions_forward_only_logged_with_the_merchant(admin, ctx):
    order = with_delivery(paid_orders(1)[0], "home")
    page = f"/admin/orders/{order.reference}"
    assert "Start preparing" in admin.get(page).text
    assert admin.post(page + "/fulfil", {"action": "shipped"}, csrf_from=page).status_code == 303
    db.session.expire_all()
    assert order.fulfilment_status == "unfulfilled"  # not from unfulfilled
    assert "forward moves only" in text_of(admin.get(page))
    admin.post(page + "/fulfil", {"action": "preparing"}, csrf_from=page)
    shown = admin.get(page).text
    assert 'name="courier"' in shown and "Ready for pickup" not in shown  # a home delivery
    admin.post(page + "/fulfil", {"action": "shipped", "courier": "Yobbo", "tracking": "colis 42"}, csrf_from=page)
    db.session.expire_all()
    assert (order.fulfilment_status, order.courier, order.tracking_note) == ("shipped", "Yobbo", "colis 42")
    text = text_of(admin.get(page))
    assert "Refunding is not offered" in text and "Record a refund" not in text
    refused = admin.post(page + "/refund", {"full": "y", "method": "cash"}, csrf_from=page)
    assert refused.status_code == 303
    db.session.expire_all()
    assert order.status == "paid"
    admin.post(page + "/fulfil", {"action": "delivered"}, csrf_from=page)
    admin.post(page + "/fulfil", {"action": "preparing"}, csrf_from=page)
    db.session.expire_all()
    assert order.fulfilment_status == "delivered"
    log = db.session.scalars(select(PaymentEvent).where(
        PaymentEvent.order_id == order.id, PaymentEvent.kind == "transition")).all()
    assert [(e.status_after, e.actor) for e in log] == [
        ("preparing", EMAIL), ("shipped", EMAIL), ("delivered", EMAIL)]
    assert "fulfilment preparing → shipped" in text_of(admin.get(page))
    assert admin.post(page + "/fulfil", {"action": "teleport"}, csrf_from=page).status_code == 400


def test_packing_slip_prints_lines_address_phone_and_qr(admin, ctx):
    order = with_delivery(paid_orders(1)[0], "home")
    response = admin.get(f"/admin/orders/{order.reference}/slip")
    assert response.status_code == 200
    text = text_of(response)
    assert order.reference in text and "Savon noir" in text and order.customer_phone in text
    assert "Derrière la pharmacie" in text and "Ouaga 2000" in text
    assert "<svg" in response.text and "packing-slip.css" in response.text
    assert "@media print" in admin.get("/static/css/packing-slip.css").text


def test_csv_and_filters_include_delivery(admin, ctx):
    home_order, pickup_order, plain = paid_orders(3)
    with_delivery(home_order, "home", "preparing")
    with_delivery(pickup_order, "pickup")
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/orders.csv").text)))
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref[home_order.reference]["delivery_method"] == "home"
    assert by_ref[home_order.reference]["delivery_place"] == home_order.delivery_label
    assert by_ref[home_order.reference]["delivery_fee"] == str(home_order.delivery_fee)
    assert by_ref[home_order.reference]["fulfilment_status"] == "preparing"
    assert by_ref[plain.reference]["fulfilment_status"] == "not_applicable"
    only_pickup = admin.get("/admin/orders?delivery=pickup").text
    assert pickup_order.reference in only_pickup and home_order.reference not in only_pickup
    by_zone = admin.get(f"/admin/orders?zone=zone:{home_order.delivery_zone_id}").text
    assert home_order.reference in by_zone and pickup_order.reference not in by_zone
    preparing = list(csv.DictReader(io.StringIO(admin.get("/admin/orders.csv?fulfilment=preparing").text)))
    assert [r["reference"] for r in preparing] == [home_order.reference]
    none = admin.get("/admin/orders?delivery=none").text
    assert plain.reference in none and home_order.reference not in none
    assert admin.get("/admin/orders?fulfilment=lost").status_code == 400
