"""The storm, bigger and printed: customers on every gateway with duplicated, dropped,
delayed and forged callbacks, a web worker killed while its creates hang, then reconciliation.
Exits 1 if anything was lost, a paid order waited for reconciliation, or a killed checkout
could not be paid.

    .venv/bin/python bench/chaos.py [--customers 120] [--workers 8] [--killed 8] [--database URL]

It builds a scratch database (SQLite in /tmp unless --database is given; it is
wiped), serves the app and the simulator on a random local port, and prints
orders created / paid / pending / expired / lost.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=120)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--database", default="")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--killed", type=int, default=8,
                        help="customers whose checkout dies with its web worker (a gunicorn process)")
    args = parser.parse_args()
    scratch = Path(tempfile.gettempdir()) / "comptoir-chaos.db"
    os.environ["TEST_DATABASE_URL"] = args.database or f"sqlite:///{scratch}"

    from werkzeug.serving import make_server

    from app import create_app
    from extensions import db
    from shop.demo import seed_demo
    from tests.chaos import run_storm
    from tests.conftest import rebuild_schema

    app = create_app("testing")
    rebuild_schema(app)
    with app.app_context():
        seed_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.perf_counter()
    try:
        report = run_storm(app, base, customers=args.customers, workers=args.workers, seed=args.seed,
                           killed=args.killed, dyno_logs=Path(tempfile.mkdtemp(prefix="comptoir-chaos-")))
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
    print(f"storm: {args.customers} customers, {args.workers} at a time, "
          f"database {os.environ['TEST_DATABASE_URL'].split('@')[-1]}, "
          f"{time.perf_counter() - started:.1f} s")
    print(report.table())
    for error in report.errors[:10]:
        print("error:", error)
    failed = (report.lost or report.unverified_paid or report.errors or report.forged_late
              or report.killed_paid != report.killed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
