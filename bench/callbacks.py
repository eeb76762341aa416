"""Callback throughput: gateway notifications applied per second by the shop under
gunicorn (production config), on one worker and on two workers.

* LigdiCash (unsigned): each callback makes the shop call ``confirm`` on the
  simulator (its own gunicorn process, one worker, so that it holds every invoice),
  then apply the answer. Payments are opened by real checkouts and paid on the
  simulator's page with its own callbacks switched off; this script sends them.
* IremboPay (signed, HMAC-SHA256 over ``t#body``): verified and applied with no
  gateway call. Its pending payments are inserted directly in the database.

A second round re-sends every callback (duplicates: verified, logged, no change).

    .venv/bin/python bench/callbacks.py [--quick] [--callbacks N] [--concurrency C]
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import common

SIM_PHONE = "22670000000"
IREMBO_SECRET = "sim-irembopay-secret-key"


def ligdicash_payments(app, sim_port: int, n: int) -> list[tuple[str, bytes, dict]]:
    """``n`` paid LigdiCash invoices; the callbacks (path, body, headers) to send."""
    from bench.checkout_cost import GatewayTimer, fill_cart, one_checkout
    from extensions import db
    from models import Payment

    requests.post(f"http://127.0.0.1:{sim_port}/_sim/faults", data={"gateway": "ligdicash", "callbacks": "none"},
                  timeout=10, allow_redirects=False)
    with app.app_context():
        from bench.data import grow_catalogue

        ids = grow_catalogue(100)
        counter = common.QueryCounter(db.engine)
    timer = GatewayTimer()
    pages = []
    try:
        for i in range(n):
            client = app.test_client()
            fill_cart(client, [ids[i % len(ids)]])
            one_checkout(client, counter, timer)
            with app.app_context():
                payment = db.session.scalars(db.select(Payment).order_by(Payment.id.desc())).first()
                pages.append((payment.reference, payment.amount, payment.redirect_url))
    finally:
        timer.close()
        counter.close()
    with requests.Session() as http:
        for _, _, url in pages:
            r = http.post(url, data={"action": "pay", "phone": SIM_PHONE}, allow_redirects=False, timeout=10)
            assert r.status_code == 303, r.status_code
    out = []
    for reference, amount, _ in pages:
        body = {"status": "completed", "token": "", "amount": amount, "montant": amount,
                "custom_data": [{"keyof_customdata": "transaction_id", "valueof_customdata": reference}]}
        out.append((f"/payments/callback/ligdicash/{reference}", json.dumps(body).encode(),
                    {"Content-Type": "application/json"}))
    return out


def irembopay_payments(app, n: int) -> list[tuple[str, bytes, dict]]:
    """``n`` pending IremboPay payments inserted directly; their signed PAID notifications."""
    from sqlalchemy import insert

    from extensions import db
    from models import Order, Payment, utcnow
    from simulator.irembopay import signature_header

    now = utcnow()
    out = []
    with app.app_context():
        for i in range(n):
            order_id = db.session.scalar(insert(Order).returning(Order.id), [dict(
                reference=f"CMD-I{i:08d}", token=f"irembo-token-{i:08d}", checkout_key=f"irembo-key-{i:08d}",
                currency="RWF", subtotal=32000, total=32000, customer_name="Bench", customer_email="b@example.rw",
                customer_phone="+250780000000", status="pending", created_at=now, updated_at=now,
                expires_at=now.replace(year=now.year + 1))])
            reference, invoice = f"PAY-I{i:011d}", f"880{i:010d}"
            db.session.execute(insert(Payment), [dict(
                order_id=order_id, reference=reference, gateway="irembopay", status="pending", amount=32000,
                currency="RWF", gateway_ref=invoice, created_at=now, updated_at=now)])
            body = {"success": True, "message": "Payment notification", "data": {
                "invoiceNumber": invoice, "transactionId": reference, "paymentStatus": "PAID",
                "amount": 32000, "currency": "RWF", "type": "SINGLE"}}
            out.append(("/payments/callback/irembopay", json.dumps(body).encode(), {}))
        db.session.commit()
    return out


def fire(port: int, callbacks: list[tuple[str, bytes, dict]], concurrency: int, signed: bool) -> tuple[float, dict]:
    """Send every callback (``concurrency`` at a time); (seconds, {status: count})."""
    sessions: dict[int, requests.Session] = {}

    def send(item) -> int:
        import threading

        http = sessions.setdefault(threading.get_ident(), requests.Session())
        path, body, headers = item
        headers = dict(headers)
        if signed:  # signed at send time, as the gateway does (5-minute tolerance)
            headers = {"Content-Type": "application/json",
                       "irembopay-signature": signature_header(body, IREMBO_SECRET)}
        return http.post(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, timeout=30).status_code

    from simulator.irembopay import signature_header

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(send, callbacks))
    elapsed = time.perf_counter() - start
    for http in sessions.values():
        http.close()
    return elapsed, {c: codes.count(c) for c in sorted(set(codes))}


def paid_count(app, gateway: str) -> int:
    from sqlalchemy import func, select

    from extensions import db
    from models import Order, Payment

    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Order).join(Payment)
                              .where(Payment.gateway == gateway, Order.status == "paid"))
        db.session.remove()
        return n


def run_config(db: str, workers: int, n: int, concurrency: int, sim_port: int) -> list[list]:
    db_url = common.pg_url(f"callbacks_{workers}") if db == "pg" else common.sqlite_url(f"callbacks-{workers}")
    port = common.free_port()
    gateway_env = dict(LIGDICASH_API_KEY="sim-ligdicash-apikey", LIGDICASH_API_TOKEN="sim-ligdicash-api-token",
                       LIGDICASH_BASE_URL=f"http://127.0.0.1:{sim_port}/_sim/ligdicash/pay/v01/")
    app = common.make_app(db_url, f"http://127.0.0.1:{port}", **gateway_env)
    sets = {"ligdicash": ligdicash_payments(app, sim_port, n), "irembopay": irembopay_payments(app, n)}
    rows = []
    env = common.env_for(db_url, port, **gateway_env)
    with common.serving("app:create_app()", port, env, workers=workers, name=f"callbacks-{db}-{workers}"):
        for gateway, callbacks in sets.items():
            fire(port, callbacks[:3], 1, gateway == "irembopay")  # warm-up (3 applied, counted below)
            for label in ("first delivery", "duplicate"):
                seconds, codes = fire(port, callbacks, concurrency, gateway == "irembopay")
                paid = paid_count(app, gateway)
                rows.append([f"{db}, {workers} worker{'s' if workers > 1 else ''} x {common.THREADS} threads",
                             "LigdiCash (confirm call)" if gateway == "ligdicash" else "IremboPay (HMAC)",
                             label, len(callbacks), f"{len(callbacks) / seconds:,.0f}",
                             common.ms(seconds / len(callbacks) * concurrency),
                             ", ".join(f"{k}: {v}" for k, v in codes.items()), f"{paid}/{len(callbacks)}"])
    common.release(app, db, db_url)
    return rows


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 callbacks per cell, fewer configurations")
    parser.add_argument("--callbacks", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if args.quick:
        args.callbacks = 60
    configs = [("sqlite", 1)]
    if common.pg_available():
        configs += [("pg", 2)] if args.quick else [("pg", 1), ("pg", 2)]
    else:
        print("PostgreSQL not reachable: only the SQLite row is measured.")
    sim_port = common.free_port()
    sim_env = common.env_for(common.sqlite_url("sim"), sim_port)
    rows = []
    with common.serving("app:create_app()", sim_port, sim_env, workers=1, threads=8, name="simulator"):
        for db, workers in configs:
            rows += run_config(db, workers, args.callbacks, args.concurrency, sim_port)
    return [common.table(
        ["shop", "gateway", "round", "callbacks", "applied/s", "mean ms per callback (wall x concurrency)",
         "HTTP answers", "orders paid"], rows,
        f"Callback throughput (gunicorn.conf.py gthread; Python client, {args.concurrency} concurrent; "
        "LigdiCash simulator: 1 gunicorn worker x 8 threads)")]


if __name__ == "__main__":
    print(common.machine())
    main()
