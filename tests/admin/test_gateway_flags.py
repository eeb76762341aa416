"""What issue 20's gateway behaviour shows the merchant: an FCFPay shortfall paid within
the tolerance, and a LigdiCash status nobody knows (real purchases through the simulator)."""
from __future__ import annotations

from simulator.state import STATE
from tests.helpers import only_order

from .conftest import text_of


def test_fcfpay_shortfall_within_the_tolerance_is_shown_on_the_order_not_flagged(admin, shopper):
    """Issue 32: a deposit within FCFPay's conversion tolerance is paid; the order shows the
    shortfall, and "Needs attention" stays for what needs a person."""
    shopper.set_market("USD")
    redirect = shopper.buy("pagne-wax-6-yards", gateway="fcfpay")
    shopper.http.post(redirect.headers["Location"], data={"action": "pay", "coin": "USDT"}, timeout=15)
    order = only_order()
    assert order.status == "paid"
    page = text_of(admin.get(f"/admin/orders/{order.reference}"))
    assert "Paid short by $0.07: $24.93 of $25.00 — within the gateway's tolerance" in page
    assert "Needs attention:" not in page
    assert order.reference not in text_of(admin.get("/admin/attention"))


def test_unknown_ligdicash_status_is_shown_to_the_merchant(admin, shopper):
    STATE.set_faults("ligdicash", failure_status="annulee")
    shopper.on_gateway_page(shopper.buy(), "decline")
    order = only_order()
    page = text_of(admin.get(f"/admin/orders/{order.reference}"))
    assert ("Needs attention: The gateway sent a status we do not know — ligdicash reported 'annulee'"
            in page)
