"""Every gateway's create call failing in every way (issue 8, G1–G5): the order is kept, the
customer is told something true, the event log says what happened, nothing is duplicated."""
from __future__ import annotations

import pytest

from models import Order, Payment
from providers import REGISTRY
from simulator.state import STATE
from tests.chaos import PAY
from tests.helpers import count, events, only_order, text_of

FAULTS = {
    "http500": (503, "could not be reached", "HTTP 500"),
    "timeout": (503, "could not be reached", "timed out"),
    "malformed": (502, "could not open the payment", "HTTP 200"),
    "html": (503, "could not be reached", "HTTP 502"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("gateway", sorted(REGISTRY))
def test_create_failure_keeps_the_order_and_tells_the_customer(shopper, gateway, fault):
    status, message, logged = FAULTS[fault]
    STATE.set_faults(gateway, create=fault)
    shopper.set_market(PAY[gateway][0])
    shopper.add_to_cart("cafe-rwanda")
    key = shopper.checkout_key()
    response = shopper.checkout(gateway=gateway, key=key)
    assert response.status_code == status
    assert message in text_of(response) and "Your cart is saved" in text_of(response)
    order = only_order()
    assert order.status == "pending" and [p.status for p in order.payments] == ["error"]
    assert logged in events(order.payments[0], "create-failed")[0].note

    STATE.set_faults(gateway, create="")
    assert shopper.checkout(gateway=gateway, key=key).status_code == 303
    assert count(Order) == 1 and count(Payment) == 2
