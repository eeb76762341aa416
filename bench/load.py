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
``--seconds``, against a shop of 2 web processes and one of 3, both started at once on one
database and their steps interleaved, so that the machine's other load hits both alike. Each
step reports
requests/s, p50/p95/p99 over all requests, failures, and orders paid per minute (counted in the
database), the cores used by the shop's web processes, its worker, the simulator, Locust and
PostgreSQL (its backends alive through the step: other users' too), and the machine's load
average. The highest step with p95 < 500 ms and no failure is what the shop sustains.
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
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


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of these processes and their children, by pid (psutil)."""
    import psutil

    found: dict[int, float] = {}
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                found[p.pid] = times.user + times.system
        except psutil.Error:
            continue
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent in between by the processes alive at both ends (one that exited, or a
    new PostgreSQL backend, is left out rather than counted negative)."""
    return sum(after[pid] - before[pid] for pid in after if pid in before)


def postgres_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]


def locust_step(host: str, users: int, seconds: int, env: dict[str, str], out: Path) -> dict[str, float]:
    """One headless Locust run; its aggregated row."""
    out.mkdir(parents=True, exist_ok=True)
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


@dataclass
class Shop:
    """One configuration: gunicorn with ``web`` processes and its own worker and queue."""

    web: int
    port: int
    server: subprocess.Popen
    worker: subprocess.Popen


def start_shop(web: int, db_url: str, sim_port: int) -> Shop:
    port = common.free_port()
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = common.env_for(db_url, port, **sim_credentials(sim_port), JOBS_REDIS_URL=REDIS_URL,
                         JOBS_QUEUE_NAME=queue, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=queue,
                         LOG_FORMAT="json")
    env["SIMULATOR_ENABLED"] = "0"  # the gateway is the simulator's own process
    with open(common.LOG_DIR / f"worker-{port}.log", "wb") as worker_log:
        worker = subprocess.Popen([str(Path(common.PYTHON).parent / "flask"), "--app", "app", "worker"],
                                  cwd=common.ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    common._children.append(worker)
    server = common.gunicorn("app:create_app()", port, env, workers=web, name=f"shop-{web}")
    common.wait_http(port)
    return Shop(web, port, server, worker)


def measure(shop: Shop, users: int, seconds: int, db_url: str, simulator_pid: int,
            locust_env: dict[str, str], out: Path) -> list:
    """One step against one shop: Locust's figures, orders paid per minute, cores used."""
    before, started = paid_orders(db_url), time.monotonic()
    groups = {"web": [shop.server.pid], "worker": [shop.worker.pid], "simulator": [simulator_pid],
              "postgres": postgres_pids()}
    cpu_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    step = locust_step(f"http://127.0.0.1:{shop.port}", users, seconds, locust_env, out / f"web{shop.web}")
    wall = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: cpu_used(cpu_before[name], cpu_seconds(pids)) / wall for name, pids in groups.items()}
    cpu["locust"] = (children.ru_utime + children.ru_stime - children_before.ru_utime
                     - children_before.ru_stime) / wall
    orders = (paid_orders(db_url) - before) / (wall / 60)
    ok = step["p95"] < 500 and step["failures"] == 0
    row = [f"{shop.web} web + 1 worker", users, f"{step['rps']:,.1f}", f"{step['p50']:.0f}",
           f"{step['p95']:.0f}", f"{step['p99']:.0f}", int(step["failures"]), f"{orders:,.1f}",
           "yes" if ok else "no",
           " / ".join(f"{cpu[k]:.2f}" for k in ("web", "worker", "simulator", "locust", "postgres")),
           f"{os.getloadavg()[0]:.1f}"]
    print(row, flush=True)
    return row


def run(webs: list[int], steps: list[int], seconds: int, sim_port: int, simulator_pid: int, out: Path,
        database: str | None) -> tuple[list[list], int]:
    """Every configuration started at once on one database, and the steps interleaved (2 web at 20
    shoppers, 3 web at 20, 2 web at 40 …), so that drift in the machine's load hits both alike."""
    db_url = fresh_database(database, "load")
    common.prepare_demo_db(db_url)
    locust_env = {**os.environ, "BENCH_PRODUCTS": products(db_url)}
    shops: list[Shop] = []
    rows: list[list] = []
    try:
        shops = [start_shop(web, db_url, sim_port) for web in webs]
        for users in steps:
            for shop in shops:
                rows.append(measure(shop, users, seconds, db_url, simulator_pid, locust_env, out))
        deadline = time.monotonic() + 30
        while unsent_emails(db_url) and time.monotonic() < deadline:
            time.sleep(1)
        unsent = unsent_emails(db_url)
    finally:
        for shop in shops:
            common.stop(shop.server)
            common.stop(shop.worker)
        if not database:
            common.drop_pg(db_url)
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows, unsent


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
    with common.serving("app:create_app()", sim_port, sim_env, workers=1, threads=16, name="simulator") as sim:
        rows, unsent = run([int(w) for w in args.web.split(",")], steps, args.seconds, sim_port, sim.pid, out,
                           args.database)
    return [common.table(
        ["shop", "shoppers", "requests/s", "p50 ms", "p95 ms", "p99 ms", "failures", "orders paid / min",
         "p95 < 500 ms and 0 failures", "cores used: web / worker / simulator / Locust / PostgreSQL",
         "load average (1 min)"], rows,
        f"Locust shoppers (think time 1-3 s), {args.seconds} s per step, configurations interleaved; gunicorn "
        f"gthread x {common.THREADS} threads, PostgreSQL + Redis, PayUnit simulator in its own process; "
        f"e-mails still unsent 30 s after the last step: {unsent}")]


if __name__ == "__main__":
    print(common.machine())
    main()
