"""Catalogue search at 10,000 products: accents and case ignored, on SQLite and PostgreSQL.

In-process, production config: ``shop.catalog.products(currency, query=…)`` (the
page's query plus its count), median of several runs after one warm-up. On PostgreSQL the
plan says whether the trigram index (``pg_trgm``) served the LIKE.

    .venv/bin/python bench/search_speed.py [--quick] [--db sqlite|pg|both] [--products 10000]
"""
from __future__ import annotations

import argparse
import statistics
import time

import common

QUERIES = ["karite", "KARITÉ", "beurre karité", "produit 009999", "article", "zzzz"]


def timed(currency: str, query: str, repeat: int) -> tuple[float, int]:
    from shop import catalog

    times, total = [], 0
    for i in range(repeat + 1):
        start = time.perf_counter()
        page = catalog.products(currency, query=query)
        total = page.total
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times), total


def plan(query: str) -> str:
    """PostgreSQL: which index (if any) the search used."""
    from sqlalchemy import select

    from extensions import db
    from models import Product
    from shop import catalog

    sql = select(Product.id).where(catalog.search_condition(query)).compile(
        db.engine, compile_kwargs={"literal_binds": True})
    # the compiled SQL has psycopg's %% escapes: exec_driver_sql with parameters passes them on
    lines = db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", {}).scalars().all()
    if "--verbose-plan" in __import__("sys").argv:
        print(sql, *lines, sep="\n")
    used = [line for line in lines if "ix_product_search_text_trgm" in line]
    exists = db.session.scalar(db.text(
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_product_search_text_trgm'"))
    return "trigram index" if used else f"sequential scan{'' if exists else ' (no pg_trgm index)'}"


def run(db_url: str, products: int, repeat: int) -> list[list]:
    from data import grow_catalogue

    app = common.make_app(db_url)
    rows = []
    with app.app_context():
        from extensions import db

        grow_catalogue(products)
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            db.session.execute(db.text("ANALYZE product"))
        for query in QUERIES:
            seconds, total = timed("XOF", query, repeat)
            how = plan(query) if dialect == "postgresql" else "LIKE on search_text"
            rows.append([dialect, products, f"“{query}”", total, common.ms(seconds), how])
        db.session.remove()
        db.engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", default="both", choices=["sqlite", "pg", "both"])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--verbose-plan", action="store_true", help="print the PostgreSQL plans")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 20
    rows = []
    if args.db in ("sqlite", "both"):
        rows += run(common.sqlite_url("search"), args.products, repeat)
    if args.db in ("pg", "both") and common.pg_available():
        url = common.pg_url("search")
        try:
            rows += run(url, args.products, repeat)
        finally:
            common.drop_pg(url)
    return [common.table(["database", "products", "query", "found", "ms (median)", "how"], rows,
                         title=f"Catalogue search, first page of 24 and its count ({repeat} runs)")]


if __name__ == "__main__":
    main()
