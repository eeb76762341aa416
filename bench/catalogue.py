"""Catalogue throughput under gunicorn (production config), side by side with the
minimal baseline app (``bench/baseline_app.py``) serving the same pages from
constant data: requests/second, p50/p99 latency, and the ratio shop/baseline.

    .venv/bin/python bench/catalogue.py [--quick] [--runs N] [--seconds S] [--connections C] [--db sqlite|pg]

Target (issue 9): every catalogue page reaches at least 60 % of the baseline.
"""
from __future__ import annotations

import argparse
import statistics
import urllib.request

import common

PAGES = [("home", "/"), ("category", "/?category=textiles"), ("product", "/products/pagne-wax-6-yards")]
TARGET = 0.60


def fetch(port: int, path: str, cookie: str = "") -> tuple[int, bytes, str]:
    """GET a page; (status, body, the session cookie it set if any)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        set_cookie = r.headers.get("Set-Cookie", "")
        return r.status, r.read(), set_cookie.split(";", 1)[0] if set_cookie else ""


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per cell")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds = 1, 3
    db_url = common.pg_url("catalogue") if args.db == "pg" else common.sqlite_url("catalogue")
    common.prepare_demo_db(db_url)
    shop_port, base_port = common.free_port(), common.free_port()
    shop_env = common.env_for(db_url, shop_port)
    base_env = common.env_for(db_url, base_port)
    results: dict[tuple[str, str], list[common.Load]] = {}
    with common.serving("app:create_app()", shop_port, shop_env, name="shop"), \
            common.serving("bench.baseline_app:app", base_port, base_env, name="baseline"):
        # A returning visitor: the shop's session cookie (with its CSRF secret) is sent back.
        _, _, cookie = fetch(shop_port, "/")
        headers = {"Cookie": cookie} if cookie else {}
        sizes = {}
        for label, path in PAGES:
            for _ in range(20):  # warm-up: imports, template compilation, connection pool
                s_status, s_body, _ = fetch(shop_port, path, cookie)
                b_status, b_body, _ = fetch(base_port, path, cookie)
            assert s_status == b_status == 200, (label, s_status, b_status)
            sizes[label] = (len(s_body), len(b_body))
        for run in range(args.runs):
            for label, path in PAGES:  # interleaved, so drift in the machine's load hits both
                for app, port in (("shop", shop_port), ("baseline", base_port)):
                    res = common.load(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections, headers)
                    results.setdefault((label, app), []).append(res)
    if args.db == "pg":
        common.drop_pg(db_url)
    tool = results[(PAGES[0][0], "shop")][0].tool
    rows = []
    for label, path in PAGES:
        shop, base = results[(label, "shop")], results[(label, "baseline")]
        s_rps, b_rps = [r.rps for r in shop], [r.rps for r in base]
        ratio = statistics.median(s_rps) / statistics.median(b_rps)
        rows.append([
            f"{label} `{path}`", f"{sizes[label][0]:,} / {sizes[label][1]:,}",
            common.median_range(s_rps), _lat(shop), common.median_range(b_rps), _lat(base),
            f"{ratio:.0%}", "met" if ratio >= TARGET else "MISSED",
            sum(r.errors for r in shop + base),
        ])
    title = (f"Catalogue throughput ({args.db}; gunicorn.conf.py: gthread, 2 workers x {common.THREADS} threads; "
             f"{tool}, {args.connections} connections, {args.runs} x {args.seconds:g} s per cell, "
             f"median [min-max] req/s, median p50 / p99 ms)")
    return [common.table(
        ["page", "bytes shop / baseline", "shop req/s", "shop p50 / p99", "baseline req/s",
         "baseline p50 / p99", "ratio", "target >= 60 %", "errors"], rows, title)]


def _lat(loads: list[common.Load]) -> str:
    return f"{statistics.median(r.p50 for r in loads):.1f} / {statistics.median(r.p99 for r in loads):.1f}"


if __name__ == "__main__":
    print(common.machine())
    main()
