"""Where a catalogue page's time goes: per-request CPU of the shop and of the
baseline app in-process (Flask test client, no server), and a pyinstrument profile.

    .venv/bin/python bench/profile_pages.py [--path /] [--requests 300] [--profile]

The in-process time per request excludes gunicorn and the network; it is the
part of the server's work that the app itself owns.
"""
from __future__ import annotations

import argparse
import time

import common


def per_request(client, path: str, n: int, headers: dict | None = None) -> float:
    for _ in range(20):
        client.get(path, headers=headers)
    start = time.perf_counter()
    for _ in range(n):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.status_code
    return (time.perf_counter() - start) / n


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", action="append", help="page(s) to measure (default: home, category, product)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the shop's first page")
    args = parser.parse_args(argv)
    paths = args.path or ["/", "/?category=textiles", "/products/pagne-wax-6-yards"]
    db_url = common.sqlite_url("profile")
    common.prepare_demo_db(db_url)
    shop = common.make_app(db_url)
    from bench.baseline_app import app as baseline

    shop_client, base_client = shop.test_client(), baseline.test_client()
    shop_client.get("/")  # a returning visitor: session cookie kept by the client
    counter = None
    with shop.app_context():
        from extensions import db

        counter = common.QueryCounter(db.engine)
    rows = []
    for path in paths:
        s = per_request(shop_client, path, args.requests)
        counter.reset()
        shop_client.get(path)
        queries = counter.count
        b = per_request(base_client, path, args.requests)
        rows.append([f"`{path}`", ms(s), ms(b), f"{b / s:.0%}", queries])
    out = [common.table(["page", "shop ms/request", "baseline ms/request", "ratio (baseline/shop time)", "SQL statements"],
                        rows, f"In-process CPU per request (Flask test client, {args.requests} requests, SQLite)")]
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.requests):
            shop_client.get(paths[0])
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    counter.close()
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


if __name__ == "__main__":
    print(common.machine())
    main()
