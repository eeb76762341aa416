"""A slow gateway must not take the shop down: the home page's latency and signed
callbacks' latency while 50 checkouts wait 10 s on LigdiCash's create call, next to
idle, under gunicorn with ``gunicorn.conf.py`` (production config).

    .venv/bin/python bench/slow_gateway.py [--quick] [--checkouts 50] [--db sqlite|pg]

The LigdiCash simulator runs in its own gunicorn process (1 worker x 64 threads) with
its create ``timeout`` fault and GATEWAY_TIMEOUT_SECONDS=9: every create answers after
10 s. The shop waits up to 15 s (GATEWAY_TIMEOUT_SECONDS=15), so each checkout that
reaches the gateway holds its server thread 10 s. Three shop configurations:
the old one (4 threads, no bulkhead), threads only (16, no bulkhead) and the
production default (16 threads, bulkhead of GATEWAY_CONCURRENCY=4 per gateway per process).
Probes: 4 browsers fetching ``/`` in a loop, 2 senders of signed IremboPay callbacks.
"""
from __future__ import annotations

import argparse
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import common
from checkout_cost import CSRF, CUSTOMER, KEY, delivery_field

PRODUCT = re.compile(r'name="product_id" value="(\d+)"')
IREMBO_SECRET = "sim-irembopay-secret-key"
CONFIGS = [  # label, gunicorn threads, GATEWAY_CONCURRENCY (0: no bulkhead)
    ("before: 2 workers x 4 threads, no bulkhead", 4, 0),
    ("threads only: 2 x 16, no bulkhead", 16, 0),
    ("now (gunicorn.conf.py): 2 x 16, bulkhead 4 per gateway", None, None),
]


class Customer:
    """A browser with one product in its cart, on the checkout page."""

    def __init__(self, port: int, product_id: str):
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        token = CSRF.search(self.http.get(self.base + "/", timeout=30).text).group(1)
        self._plain_cookies()
        r = self.http.post(self.base + "/cart/add", data={"csrf_token": token, "product_id": product_id,
                                                         "quantity": 1}, allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.status_code
        self._plain_cookies()
        page = self.http.get(self.base + "/checkout", timeout=30).text
        self._plain_cookies()
        self.token, self.key = CSRF.search(page).group(1), KEY.search(page).group(1)
        self.delivery = delivery_field(page)

    def _plain_cookies(self) -> None:
        """Production cookies are Secure; the bench speaks plain HTTP on loopback."""
        for cookie in self.http.cookies:
            cookie.secure = False

    def checkout(self) -> tuple[int, float, bool]:
        self.http.close()  # a fresh connection: a kept-alive one may be closed by the server meanwhile
        start = time.perf_counter()
        try:
            r = self.http.post(self.base + "/checkout", data={**CUSTOMER, **self.delivery, "gateway": "ligdicash",
                                                             "csrf_token": self.token, "checkout_key": self.key}, allow_redirects=False, timeout=40)
        except requests.Timeout:
            return 0, time.perf_counter() - start, False  # 0: no answer within 40 s
        except requests.ConnectionError:
            return -1, time.perf_counter() - start, False  # -1: connection refused or reset
        return r.status_code, time.perf_counter() - start, ("very busy" in r.text or "très sollicité" in r.text)


def probe_home(port: int, cookie: str, until: float, out: list[float]) -> None:
    with requests.Session() as http:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                ok = http.get(f"http://127.0.0.1:{port}/", headers={"Cookie": cookie}, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            out.append(time.perf_counter() - start if ok else float("inf"))


def probe_callbacks(port: int, callbacks: list, until: float, out: list[float]) -> None:
    from simulator.irembopay import signature_header

    with requests.Session() as http:
        while callbacks and time.monotonic() < until:
            path, body, _ = callbacks.pop()
            headers = {"Content-Type": "application/json", "irembopay-signature": signature_header(body, IREMBO_SECRET)}
            start = time.perf_counter()
            try:
                ok = http.post(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            out.append(time.perf_counter() - start if ok else float("inf"))
            time.sleep(0.05)


def window(port: int, cookie: str, callbacks: list, seconds: float) -> tuple[list[float], list[float]]:
    homes: list[float] = []
    calls: list[float] = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=probe_home, args=(port, cookie, until, homes)) for _ in range(4)]
    threads += [threading.Thread(target=probe_callbacks, args=(port, callbacks, until, calls)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return homes, calls


def lat(values: list[float]) -> str:
    if not values:
        return "—"
    failed = sum(1 for v in values if v == float("inf"))
    ok = [v for v in values if v != float("inf")]
    text = f"{common.ms(statistics.median(ok))} / {common.ms(common.percentile(ok, 99))}" if ok else "none answered"
    return text + f" ({len(values)}{f', {failed} failed or > 30 s' if failed else ''})"


def run_config(db: str, label: str, threads: int | None, limit: int | None, n: int, sim_port: int,
               seconds: float) -> list[list]:
    from callbacks import irembopay_payments

    tag = f"slow_{threads or 'd'}_{limit if limit is not None else 'd'}"
    db_url = common.pg_url(tag) if db == "pg" else common.sqlite_url(tag.replace("_", "-"))
    common.prepare_demo_db(db_url)
    port = common.free_port()
    gateway_env = dict(LIGDICASH_API_KEY="sim-ligdicash-apikey", LIGDICASH_API_TOKEN="sim-ligdicash-api-token",
                       LIGDICASH_BASE_URL=f"http://127.0.0.1:{sim_port}/_sim/ligdicash/pay/v01/",
                       GATEWAY_TIMEOUT_SECONDS="15", MAIL_SEND_AFTER_RESPONSE="0")
    if limit is not None:
        gateway_env["GATEWAY_CONCURRENCY"] = str(limit)
    app = common.make_app(db_url, f"http://127.0.0.1:{port}", **gateway_env)
    with app.app_context():
        from extensions import db as sqla

        sqla.session.execute(sqla.text("UPDATE product SET stock = 100000"))
        sqla.session.commit()
    callbacks = irembopay_payments(app, 400)
    env = common.env_for(db_url, port, **gateway_env)
    rows = []
    with common.serving("app:create_app()", port, env, threads=threads, name=f"slow-{tag}"):
        first = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in first.cookies.items())
        product = PRODUCT.search(first.text).group(1)
        window(port, cookie, callbacks, 2)  # warm-up
        idle_home, idle_calls = window(port, cookie, callbacks, seconds)
        rows.append([label, "idle", lat(idle_home), lat(idle_calls), "—", "—"])
        with ThreadPoolExecutor(16) as pool:
            customers = list(pool.map(lambda _: Customer(port, product), range(n)))
        requests.post(f"http://127.0.0.1:{sim_port}/_sim/faults", data={"gateway": "ligdicash", "create": "timeout"},
                      timeout=10, allow_redirects=False)
        results: list[tuple[int, float, bool]] = []
        starters = [threading.Thread(target=lambda c=c: results.append(c.checkout())) for c in customers]
        for t in starters:
            t.start()
        time.sleep(0.5)
        slow_home, slow_calls = window(port, cookie, callbacks, seconds)
        for t in starters:
            t.join()
        requests.post(f"http://127.0.0.1:{sim_port}/_sim/faults", data={"gateway": "ligdicash", "create": ""},
                      timeout=10, allow_redirects=False)
        refused = [code for code, _, _ in results if 400 <= code < 500]
        if refused:  # the form the bench posts no longer matches the checkout: the rows would measure nothing
            raise SystemExit(f"slow_gateway: {len(refused)} checkouts refused ({sorted(set(refused))}): "
                             "the bench's checkout form is out of date")
        busy = [s for code, s, b in results if b]
        waited = [s for code, s, b in results if not b]
        codes = {c: sum(1 for r in results if r[0] == c) for c in sorted({r[0] for r in results})}
        rows.append([label, f"{n} checkouts waiting 10 s on LigdiCash", lat(slow_home), lat(slow_calls),
                     ", ".join(f"{ {0: 'no answer in 40 s', -1: 'connection error'}.get(k, k)}: {v}" for k, v in codes.items()) + f" ({len(busy)} 'busy')",
                     (f"busy in {common.ms(statistics.median(busy))} ms" if busy else "")
                     + ("; " if busy and waited else "")
                     + (f"others {statistics.median(waited):.1f} s" if waited else "")])
    common.release(app, db, db_url)
    return rows


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the old and the current configuration")
    parser.add_argument("--checkouts", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="pg" if common.pg_available() else "sqlite")
    args = parser.parse_args(argv)
    configs = [CONFIGS[0], CONFIGS[-1]] if args.quick else CONFIGS
    sim_port = common.free_port()
    sim_env = common.env_for(common.sqlite_url("slow-sim"), sim_port, GATEWAY_TIMEOUT_SECONDS="9")
    rows = []
    with common.serving("app:create_app()", sim_port, sim_env, workers=1, threads=64, name="slow-simulator"):
        for label, threads, limit in configs:
            rows += run_config(args.db, label, threads, limit, args.checkouts, sim_port, args.seconds)
    return [common.table(
        ["shop", "load", "home `/` p50 / p99 ms (requests)", "signed callback p50 / p99 ms (callbacks)",
         "checkout answers", "checkout time (median)"], rows,
        f"Slow gateway ({args.db}; shop under gunicorn.conf.py, production config; 4 browsers on `/` and "
        f"2 IremboPay callback senders for {args.seconds:g} s, starting 0.5 s after the {args.checkouts} checkouts)")]


if __name__ == "__main__":
    print(common.machine())
    main()
