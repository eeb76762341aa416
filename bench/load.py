"""Load test (issue 29): Locust shoppers against gunicorn on PostgreSQL + Redis with a worker.

The shop runs as on a platform: gunicorn (``gunicorn.conf.py``: gthread, 16 threads) with
``WEB_CONCURRENCY`` web processes, one ``flask worker`` (RQ) sending the e-mails, PostgreSQL
(a ``bench_load`` database, created and dropped) and Redis (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/6``; its own queue name) for the jobs and the rate limits. PayUnit is
played by the simulator in its own gunicorn process (one worker: it keeps its invoices in
memory), so every purchase is real HTTP end to end: checkout, the gateway's page, its callback
(the shop confirms with the invoice API), the return to the order page, the receipt sent by
the worker.

Locust (``bench/locustfile.py``) runs headless in steps of shoppers (``--steps``), each for
``--seconds``, first with 2 web processes and then with 3, in the same run. Each step reports
requests/s, p50/p95/p99 over all requests, failures, and orders paid per minute (counted in the
database). The highest step with p95 < 500 ms and no failure is what the shop sustains.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

LOCUST = str(Path(common.PYTHON).parent / "locust")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")


def sim_credentials(sim_port: int) -> dict[str, str]:
    from simulator import SIM_CREDENTIALS

    creds = SIM_CREDENTIALS["payunit"]
    return {"PAYUNIT_API_USER": creds["api_user"], "PAYUNIT_API_PASSWORD": creds["api_password"],
            "PAYUNIT_API_KEY": creds["api_key"], "PAYUNIT_MODE": "test",
            "PAYUNIT_BASE_URL": f"http://127.0.0.1:{sim_port}/_sim/payunit/"}


def sql(db_url: str, statement: str) -> str:
    result = subprocess.run(["psql", db_url, "-Atqc", statement], capture_output=True, text=True, timeout=60)
    if result.returncode:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def products(db_url: str) -> str:
    """``slug:id,…`` of the demo products on sale in XAF, with stock raised so nobody runs out."""
    sql(db_url, "UPDATE product SET stock = 1000000")
    rows = sql(db_url, "SELECT p.slug, p.id FROM product p JOIN price ON price.product_id = p.id "
                       "WHERE price.currency = 'XAF' AND p.active ORDER BY p.id")
    return ",".join(":".join(line.split("|")) for line in rows.split())


def paid_orders(db_url: str) -> int:
    return int(sql(db_url, "SELECT count(*) FROM orders WHERE status = 'paid'").strip() or 0)


def unsent_emails(db_url: str) -> int:
    return int(sql(db_url, "SELECT count(*) FROM outbox_email WHERE status <> 'sent'").strip() or 0)


def fresh_database(given: str | None, tag: str) -> str:
    """``--database``: that database, its schema dropped and rebuilt; else a ``bench_<tag>`` one."""
    if not given:
        return common.pg_url(tag)
    sql(given, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return given


def locust_step(host: str, users: int, seconds: int, env: dict[str, str], out: Path) -> dict[str, float]:
    """One headless Locust run; its aggregated row."""
    prefix = out / f"step-{users}"
    subprocess.run([LOCUST, "-f", str(common.BENCH / "locustfile.py"), "--headless", "--host", host,
                    "-u", str(users), "-r", str(max(users // 5, 1)), "-t", f"{seconds}s", "--csv", str(prefix),
                    "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
                   cwd=common.ROOT, env=env, check=False, capture_output=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {"requests": float(total["Request Count"]), "failures": float(total["Failure Count"]),
            "rps": float(total["Requests/s"]), "p50": float(total["50%"]), "p95": float(total["95%"]),
            "p99": float(total["99%"])}


def run_config(web: int, steps: list[int], seconds: int, sim_port: int, out: Path,
               database: str | None) -> list[list]:
    db_url = fresh_database(database, f"load_{web}")
    common.prepare_demo_db(db_url)
    port = common.free_port()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = common.env_for(db_url, port, **sim_credentials(sim_port), JOBS_REDIS_URL=REDIS_URL,
                         JOBS_QUEUE_NAME=queue, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=queue,
                         LOG_FORMAT="json")
    env["SIMULATOR_ENABLED"] = "0"  # the gateway is the simulator's own process
    locust_env = {**os.environ, "BENCH_PRODUCTS": products(db_url)}
    rows = []
    worker_log = open(common.LOG_DIR / f"worker-{port}.log", "wb")
    worker = subprocess.Popen([str(Path(common.PYTHON).parent / "flask"), "--app", "app", "worker"], cwd=common.ROOT,
                              env=env, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True)
    common._children.append(worker)
    try:
        with common.serving("app:create_app()", port, env, workers=web, name=f"shop-{web}"):
            for users in steps:
                before, started = paid_orders(db_url), time.monotonic()
                step = locust_step(f"http://127.0.0.1:{port}", users, seconds, locust_env, out)
                minutes = (time.monotonic() - started) / 60
                orders = (paid_orders(db_url) - before) / minutes
                ok = step["p95"] < 500 and step["failures"] == 0
                rows.append([f"{web} web + 1 worker", users, f"{step['rps']:,.1f}", f"{step['p50']:.0f}",
                             f"{step['p95']:.0f}", f"{step['p99']:.0f}", int(step["failures"]),
                             f"{orders:,.1f}", "yes" if ok else "no"])
                print(rows[-1], flush=True)
            deadline = time.monotonic() + 30
            while unsent_emails(db_url) and time.monotonic() < deadline:
                time.sleep(1)
            rows[-1].append(unsent_emails(db_url))
    finally:
        common.stop(worker)
        worker_log.close()
        if not database:
            common.drop_pg(db_url)
    return rows


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two short steps per configuration")
    parser.add_argument("--steps", default="20,40,80,120", help="shoppers per step, comma-separated")
    parser.add_argument("--seconds", type=int, default=30, help="length of each step")
    parser.add_argument("--web", default="2,3", help="web processes per configuration")
    parser.add_argument("--database", help="an existing PostgreSQL database to use (its schema is DROPPED "
                                           "and rebuilt) instead of creating bench_load_* ones")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.seconds = "10,40", 15
    if not args.database and not common.pg_available():
        print("PostgreSQL not reachable: the load test needs it (BENCH_PG_ADMIN).")
        return []
    steps = [int(s) for s in args.steps.split(",")]
    out = Path(tempfile.mkdtemp(prefix="comptoir-load-"))
    sim_port = common.free_port()
    sim_db = common.sqlite_url("load-sim")
    common.prepare_demo_db(sim_db)
    sim_env = common.env_for(sim_db, sim_port)
    rows: list[list] = []
    with common.serving("app:create_app()", sim_port, sim_env, workers=1, threads=16, name="simulator"):
        for web in (int(w) for w in args.web.split(",")):
            rows += run_config(web, steps, args.seconds, sim_port, out, args.database)
    for row in rows:
        if len(row) < 10:
            row.append("")
    return [common.table(
        ["shop", "shoppers", "requests/s", "p50 ms", "p95 ms", "p99 ms", "failures", "orders paid / min",
         "p95 < 500 ms and 0 failures", "e-mails unsent 30 s after"], rows,
        f"Locust shoppers (think time 1-3 s), {args.seconds} s per step; gunicorn gthread x "
        f"{common.THREADS} threads, PostgreSQL + Redis, PayUnit simulator in its own process")]


if __name__ == "__main__":
    print(common.machine())
    main()
