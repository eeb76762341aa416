"""A slow gateway must not take the shop down (issue 16): at most GATEWAY_CONCURRENCY
create calls wait on one gateway per process; the next checkout for that gateway is
answered at once with "busy, try again", its order kept, while browsing, other
gateways and callbacks carry on. Over real HTTP, the simulator's create "timeout"
fault holding each call (GATEWAY_TIMEOUT_SECONDS + 1 s)."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from models import Order
from payments.bulkhead import in_flight
from simulator.state import STATE
from tests.chaos import PAY
from tests.helpers import Shopper, text_of

LIMIT = 2


def _ready_shopper(base_url: str, gateway: str = "ligdicash") -> tuple[Shopper, str]:
    shopper = Shopper(base_url)
    shopper.set_market(PAY[gateway][0])
    shopper.add_to_cart("cafe-rwanda")
    return shopper, shopper.checkout_key()


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_hanging_gateway_holds_at_most_its_slots_and_the_rest_is_answered_at_once(app, base_url, ctx):
    app.config["GATEWAY_CONCURRENCY"] = LIMIT
    STATE.set_faults("ligdicash", create="timeout")
    stuck = [_ready_shopper(base_url) for _ in range(LIMIT)]
    waiting, answers = [], []
    for shopper, key in stuck:
        thread = threading.Thread(target=lambda s=shopper, k=key: answers.append(s.checkout(key=k)))
        thread.start()
        waiting.append(thread)
    _wait_for(lambda: in_flight("ligdicash", "create", LIMIT) == LIMIT)

    late, late_key = _ready_shopper(base_url)
    other, other_key = _ready_shopper(base_url, "irembopay")
    started = time.monotonic()
    busy = late.checkout(key=late_key)
    busy_seconds = time.monotonic() - started
    assert busy.status_code == 503 and busy_seconds < 1.5, (busy.status_code, busy_seconds)
    assert "very busy right now" in text_of(busy) and "Your cart is saved" in text_of(busy)
    home = late.get("/")
    assert home.status_code == 200 and home.elapsed.total_seconds() < 1.5
    # another gateway opens its payment while LigdiCash hangs
    assert other.checkout(gateway="irembopay", key=other_key).status_code == 303
    assert in_flight("ligdicash", "create", LIMIT) == LIMIT  # the two are still waiting

    late_order = Order.query.filter_by(checkout_key=late_key).one()
    assert late_order.status == "pending" and late_order.payments == []  # kept, nothing opened

    for thread in waiting:
        thread.join(15)
    assert sorted(r.status_code for r in answers) == [503] * LIMIT  # timed out, told so
    STATE.set_faults("ligdicash", create="")
    again = late.checkout(key=late_key)  # the same order, paid now that the gateway answers
    assert again.status_code == 303
    from extensions import db

    db.session.expire_all()
    assert [p.status for p in db.session.scalars(select(Order).filter_by(checkout_key=late_key)).one().payments] == ["pending"]
    for shopper, _ in [*stuck, (late, None), (other, None)]:
        shopper.http.close()


def test_no_limit_when_set_to_zero(app, base_url, ctx):
    app.config["GATEWAY_CONCURRENCY"] = 0
    shopper, key = _ready_shopper(base_url)
    assert shopper.checkout(key=key).status_code == 303
    shopper.http.close()
