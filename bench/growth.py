"""Growth: how the dashboard's order list, a search, a filter and the CSV export cost
with 1,000, 10,000 and 100,000 orders, and the catalogue pages with 100 and
10,000 products.

In-process (Flask test client on the production-configured app, signed in as a
merchant), SQLite by default. Time is the median of several requests; the
export's peak memory is Python's allocations during one full export
(``tracemalloc``, a separate run, as tracing slows the code down).

    .venv/bin/python bench/growth.py [--quick] [--db sqlite|pg] [--orders 1000,10000,100000] [--products 100,10000]
"""
from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import common
from checkout_cost import CSRF, REFERER, token

ADMIN = ("bench@example.com", "bench-password-123456")


def timed(client, path: str, counter, repeat: int) -> tuple[float, int, int]:
    """(median seconds, SQL statements, response bytes) of GET ``path``."""
    times = []
    for i in range(repeat + 1):  # the first one warms up
        counter.reset()
        start = time.perf_counter()
        status, size = stream(client, path)
        assert status == 200, (path, status)
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), counter.count, size


def stream(client, path: str) -> tuple[int, int]:
    """Call the app as a WSGI server would, reading the (streamed) body chunk by chunk
    and dropping it, so memory is the app's own; (status, bytes)."""
    from werkzeug.test import EnvironBuilder

    cookie = client.get_cookie("session")
    builder = EnvironBuilder(path=path, base_url="https://localhost/",
                             headers={"Cookie": f"session={cookie.value}"} if cookie else {})
    environ, seen = builder.get_environ(), {}
    builder.close()
    body = client.application(environ, lambda status, headers, exc=None: seen.setdefault("status", status))
    size = 0
    try:
        for chunk in body:
            size += len(chunk)
    finally:
        getattr(body, "close", lambda: None)()
    return int(seen["status"].split()[0]), size


def csv_peak(client, path: str) -> int:
    tracemalloc.start()
    stream(client, path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def sign_in(app):
    from merchant.accounts import save_admin

    with app.app_context():
        save_admin(*ADMIN)
    client = app.test_client()
    csrf = token(client.get("/admin/login").get_data(as_text=True), CSRF)
    r = client.post("/admin/login", data={"csrf_token": csrf, "email": ADMIN[0], "password": ADMIN[1]},
                    headers=REFERER)
    assert r.status_code == 303, r.status_code
    return client


def orders_growth(db: str, sizes: list[int], repeat: int) -> list[list]:
    db_url = common.pg_url("growth_orders") if db == "pg" else common.sqlite_url("growth-orders")
    app = common.make_app(db_url)
    from bench.data import grow_catalogue, grow_orders
    from extensions import db as sqla

    with app.app_context():
        grow_catalogue(100)
        counter = common.QueryCounter(sqla.engine)
    client = sign_in(app)
    rows = []
    for size in sizes:
        start = time.perf_counter()
        with app.app_context():
            grow_orders(size)
            if db == "pg":
                sqla.session.execute(sqla.text("ANALYZE"))
                sqla.session.commit()
        built = time.perf_counter() - start
        probe = size // 2
        cases = [("order list, page 1", "/admin/orders"),
                 ("order list, page 20", "/admin/orders?page=20"),
                 ("filter: paid, XOF", "/admin/orders?status=paid&currency=XOF"),
                 ("search: e-mail", f"/admin/orders?q=Client{probe}@Example.bf"),
                 ("search: order reference", f"/admin/orders?q=CMD-B{probe:09d}"),
                 ("search: gateway reference", f"/admin/orders?q=gw-{probe:09d}"),
                 ("CSV export, all orders", "/admin/orders.csv")]
        for label, path in cases:
            seconds, statements, size_bytes = timed(client, path, counter, 1 if "CSV" in label else repeat)
            peak = f"{csv_peak(client, path) / 2**20:.1f} MiB" if "CSV" in label else ""
            rows.append([f"{size:,}", label, common.ms(seconds), statements, f"{size_bytes / 1024:,.0f} KiB", peak])
        print(f"  {size:,} orders built in {built:.1f} s", flush=True)
    counter.close()
    with app.app_context():
        sqla.session.remove()
        sqla.engine.dispose()
    if db == "pg":
        common.drop_pg(db_url)
    return rows


def catalogue_growth(db: str, sizes: list[int], repeat: int) -> list[list]:
    rows = []
    for size in sizes:
        db_url = common.pg_url(f"growth_cat_{size}") if db == "pg" else common.sqlite_url(f"growth-cat-{size}")
        app = common.make_app(db_url)
        from bench.data import grow_catalogue
        from extensions import db as sqla

        with app.app_context():
            grow_catalogue(size)
            counter = common.QueryCounter(sqla.engine)
        client = app.test_client()
        for label, path in [("home", "/"), ("category", "/?category=textiles"),
                            ("search", "/?q=wax"), ("product", "/products/pagne-wax-6-yards")]:
            seconds, statements, size_bytes = timed(client, path, counter, repeat)
            rows.append([f"{size:,}", f"{label} `{path}`", common.ms(seconds), statements,
                         f"{size_bytes / 1024:,.0f} KiB"])
        counter.close()
        common.release(app, db, db_url)
    return rows


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 orders; 3 requests per cell")
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--orders", default="1000,10000,100000")
    parser.add_argument("--products", default="100,10000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    orders = [int(x) for x in args.orders.split(",")]
    if args.quick:
        orders, args.repeat = [n for n in orders if n <= 10_000], 3
    out = [common.table(
        ["orders", "request", "median ms", "SQL statements", "response", "peak Python memory"],
        orders_growth(args.db, orders, args.repeat),
        f"Dashboard growth ({args.db}; in-process, signed in; median of {args.repeat}, CSV: 1 run)")]
    out.append(common.table(
        ["products", "page", "median ms", "SQL statements", "response"],
        catalogue_growth(args.db, [int(x) for x in args.products.split(",")], args.repeat),
        f"Catalogue growth ({args.db}; in-process; median of {args.repeat})"))
    return out


if __name__ == "__main__":
    print(common.machine())
    main()
