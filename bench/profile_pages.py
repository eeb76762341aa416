"""Catalogue pages near the floor: CPU time per request of each shop page as a multiple
of ``bench/floor_app.py`` (a minimal Flask app rendering its own 24-item list), in-process
(Flask test client, production config, a returning visitor's session), shop and floor
measured in alternating batches so that the machine's load drifts on both alike.
Also the baseline (the shop's own templates from constant data), and a pyinstrument
profile with ``--profile``.

    .venv/bin/python bench/profile_pages.py [--path /] [--requests 300] [--profile]

CPU time is ``time.process_time()`` (this process only: other agents on the machine
do not count); wall time is printed next to it. Target (issue 16): at most 3x the floor.
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


PAGES = ["/", "/?category=textiles", "/?q=wax", "/products/pagne-wax-6-yards"]
TARGET = 3.0


def batch(client, path: str, n: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) for ``n`` requests of ``path``."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", action="append", help="page(s) to measure (default: home, category, search, product)")
    parser.add_argument("--requests", type=int, default=400, help="per page and app, in batches of 50")
    parser.add_argument("--quick", action="store_true", help="200 requests per cell")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the shop's first page")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = 200
    paths = args.path or PAGES
    db_url = common.sqlite_url("profile")
    common.prepare_demo_db(db_url)
    shop = common.make_app(db_url)
    from bench.baseline_app import app as baseline
    from bench.floor_app import app as floor

    shop_client, base_client, floor_client = shop.test_client(), baseline.test_client(), floor.test_client()
    shop_client.get("/")  # a returning visitor: session cookie kept by the client
    shop_client.get("/")
    with shop.app_context():
        from extensions import db

        counter = common.QueryCounter(db.engine)
    for _ in range(30):  # warm-up: imports, template compilation, caches
        for path in paths:
            shop_client.get(path)
        floor_client.get("/")
    rows = []
    rounds = max(1, args.requests // 50)
    for path in paths:
        totals = {"shop": [0.0, 0.0], "floor": [0.0, 0.0], "baseline": [0.0, 0.0]}
        base_path = path if not path.startswith("/?q=") else "/"
        for _ in range(rounds):  # interleaved batches
            for name, client, p in (("shop", shop_client, path), ("floor", floor_client, "/"),
                                    ("baseline", base_client, base_path)):
                cpu, wall = batch(client, p, 50)
                totals[name][0] += cpu
                totals[name][1] += wall
        n = rounds * 50
        counter.reset()
        shop_client.get(path)
        queries = counter.count
        s_cpu, f_cpu, b_cpu = (totals[k][0] / n for k in ("shop", "floor", "baseline"))
        ratio = s_cpu / f_cpu
        rows.append([f"`{path}`", ms(s_cpu), ms(totals["shop"][1] / n), ms(f_cpu), ms(totals["floor"][1] / n),
                     f"{ratio:.1f}x", "met" if ratio <= TARGET else "MISSED", ms(b_cpu), queries])
    out = [common.table(
        ["page", "shop CPU ms", "shop wall ms", "floor CPU ms", "floor wall ms", "shop / floor (CPU)",
         "target <= 3x", "baseline CPU ms (shop templates, constant data)", "SQL statements (warm)"],
        rows, f"Catalogue pages vs the floor, in-process CPU per request (Flask test client, production config, "
              f"SQLite, {rounds} x 50 requests per cell, shop / floor / baseline batches alternating)")]
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
