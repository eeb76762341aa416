"""The overview (revenue chart, per-gateway conversion) and the needs-attention page."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from core.money import format_money
from extensions import db
from models import PaymentEvent, utcnow
from orders.states import AttentionKind, flag
from simulator.state import STATE
from tests.admin.conftest import EMAIL, make_orders, text_of
from tests.helpers import let_pacing_pass, only_order


def _section(response, name: str) -> str:
    """The visible text of one section of the attention page."""
    html = response.text
    start = html.index(f'<section id="{name}">')
    return text_of(type("R", (), {"text": html[start:html.index("</section>", start)]})())


# overview

def test_overview_draws_paid_revenue_per_currency_without_script(admin):
    make_orders(2, status="paid", payment_status="succeeded")  # 2 × 1 500 F CFA today
    make_orders(1, currency="USD", status="paid", payment_status="succeeded")
    make_orders(4)  # pending: not revenue
    page = admin.get("/admin/")
    assert page.status_code == 200
    assert "<script" not in page.text and not re.search(r'(src|href)="(https?:)?//', page.text)  # no JS, no CDN
    for currency in ("XOF", "USD"):
        chart = page.text.split(f'id="chart-{currency}"')[1].split("</figure>")[0]
        assert chart.count("<rect") == 30
    text = text_of(page).replace("\u202f", " ").replace("\xa0", " ")
    assert f"{utcnow().date().isoformat()}: 3 000 F CFA" in text
    assert "USD · $15.00 in 30 days" in text
    assert "chart-NGN" not in page.text


def test_overview_per_gateway_conversion(admin):
    make_orders(2, status="paid", payment_status="succeeded")
    make_orders(1, payment_status="failed")
    make_orders(1, gateway="payunit", currency="XAF", payment_status="pending")
    page = admin.get("/admin/")
    row = page.text.split('data-gateway="ligdicash"')[1].split("</tr>")[0]
    cells = re.findall(r'<td class="amount"[^>]*>([^<]*)</td>', row)
    assert cells == ["3", "2", "1", "66.7 %", unescape(format_money(3000, "XOF"))]  # net revenue: 2 × 1 500 F
    payunit = page.text.split('data-gateway="payunit"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="amount"[^>]*>([^<]*)</td>', payunit) == ["1", "0", "0", "0.0 %", "—"]


def test_overview_counts_what_needs_attention(admin):
    make_orders(2, created_at=utcnow() - timedelta(hours=2))
    flagged = make_orders(1, status="paid", payment_status="succeeded")[0]
    flag(flagged.payments[0], AttentionKind.OVERPAID, amount=2000, expected=1500)
    db.session.commit()
    counts = text_of(admin.get("/admin/")).split("Revenue")[0]
    assert "2 payment(s) pending too long" in counts
    assert "1 payment(s) flagged" in counts and "0 rejected callback(s)" in counts


# needs attention

def test_payments_pending_too_long_are_listed_with_their_fixes(admin, app):
    stuck = make_orders(1, created_at=utcnow() - timedelta(minutes=61))[0]
    fresh = make_orders(1, created_at=utcnow() - timedelta(minutes=5))[0]
    page = admin.get("/admin/attention")
    section = _section(page, "stuck")
    assert "more than 60 minutes" in section
    assert stuck.reference in section and fresh.reference not in section
    assert f"/admin/orders/{stuck.reference}/payments/{stuck.payments[0].id}/recheck" in page.text
    assert f"/admin/orders/{stuck.reference}/cancel" in page.text
    app.config["ATTENTION_PENDING_MINUTES"] = 2
    assert fresh.reference in _section(admin.get("/admin/attention"), "stuck")


def test_amount_mismatch_is_flagged_and_acknowledged_with_a_note(admin, shopper):
    """The gateway reports another amount: not paid, flagged, then acknowledged by the merchant."""
    STATE.set_faults("ligdicash", amount_delta=100)
    shopper.on_gateway_page(shopper.buy(), "pay")
    order = only_order()
    payment = order.payments[0]
    assert order.status == "pending" and payment.attention_kind == "amount_mismatch"
    page = admin.get("/admin/attention")
    assert ("Amount mismatch: the gateway reports 15 100 F CFA, the order asks 15 000 F CFA"
            in _section(page, "flagged"))
    assert order.reference in _section(page, "flagged")

    admin.post(f"/admin/payments/{payment.id}/acknowledge", {"note": "customer refunded by phone"})
    db.session.expire_all()
    assert payment.attention_kind is None
    event = db.session.scalars(select(PaymentEvent).where(PaymentEvent.kind == "manual")).one()
    assert event.actor == EMAIL and event.order_id == order.id and event.payment_id == payment.id
    assert "Amount mismatch" in event.note and "customer refunded by phone" in event.note
    assert "Nothing flagged." in _section(admin.get("/admin/attention"), "flagged")
    again = admin.post(f"/admin/payments/{payment.id}/acknowledge")
    assert "no longer needs attention" in text_of(admin.get(again.headers["Location"]))


def test_money_on_a_cancelled_order_is_flagged(admin, shopper):
    """The merchant cancels; the customer still pays on the open gateway page: flagged, not lost."""
    redirect = shopper.buy()
    order = only_order()
    admin.post(f"/admin/orders/{order.reference}/cancel")
    let_pacing_pass()  # the cancel asked LigdiCash; its callback may ask again 3 s later
    shopper.on_gateway_page(redirect, "pay")
    db.session.expire_all()
    assert order.status == "cancelled" and order.payments[0].status == "succeeded"
    assert "already cancelled" in order.payments[0].attention
    section = _section(admin.get("/admin/attention"), "flagged")
    assert order.reference in section and "refund or accept" in section


def test_rejected_callback_is_listed_linked_and_reviewed(admin, shopper, base_url):
    shopper.buy()
    order = only_order()
    payment = order.payments[0]
    bogus = shopper.http.post(f"{base_url}/payments/callback/ligdicash/{payment.reference}",
                              json={"status": "completed"}, headers={"X-Signature": "forged"}, timeout=10)
    assert bogus.status_code == 400
    page = admin.get("/admin/attention")
    section = _section(page, "rejected")
    assert "rejected: no transaction_id in custom_data" in section and order.reference in section
    detail = text_of(admin.get(f"/admin/orders/{order.reference}"))
    assert "rejected" in detail and "X-Signature forged" in detail  # the headers that matter

    event = db.session.scalars(select(PaymentEvent).where(PaymentEvent.note.like("rejected%"))).one()
    admin.post(f"/admin/callbacks/{event.id}/review", {"note": "our own test"})
    db.session.expire_all()
    assert event.reviewed_by == EMAIL and event.reviewed_at is not None
    assert "No rejected callback." in _section(admin.get("/admin/attention"), "rejected")
    assert "reviewed rejected callback" in text_of(admin.get(f"/admin/orders/{order.reference}"))
