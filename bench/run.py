"""Run the main benchmarks one after the other and print their tables (``make bench``).

    .venv/bin/python bench/run.py [--quick] [--only floor,catalogue,slow_gateway,checkout,callbacks,growth,page_weight,search] [--save FILE]

``--quick`` (``make bench QUICK=1``) shortens every benchmark to a smoke run
(about 3 minutes instead of about 10). All servers started are stopped at the end.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

import callbacks  # noqa: E402
import catalogue  # noqa: E402
import checkout_cost  # noqa: E402
import growth  # noqa: E402
import page_weight  # noqa: E402
import profile_pages  # noqa: E402
import search_speed  # noqa: E402
import slow_gateway  # noqa: E402

SUITES = {"floor": profile_pages.main, "catalogue": catalogue.main, "slow_gateway": slow_gateway.main,
          "checkout": checkout_cost.main, "callbacks": callbacks.main, "growth": growth.main,
          "page_weight": page_weight.main, "search": search_speed.main}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(SUITES))
    parser.add_argument("--save", help="also write the tables (Markdown) to this file")
    args = parser.parse_args()
    if not common.wrk_available():
        print("wrk not found: the catalogue uses the slower Python load generator "
              "(install wrk: apt-get install -y wrk).", flush=True)
    header = [common.machine(), "", f"Command: {' '.join(sys.argv)}", ""]
    print("\n".join(header), flush=True)
    out, started = list(header), time.monotonic()
    for name in args.only.split(","):
        t0 = time.monotonic()
        print(f"\n## {name}", flush=True)
        tables = SUITES[name](["--quick"] if args.quick else [])
        out += [f"\n## {name} ({time.monotonic() - t0:.0f} s)", *tables]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    footer = f"\nTotal {time.monotonic() - started:.0f} s. Load at the end: {uptime}"
    print(footer)
    if args.save:
        Path(args.save).write_text("\n".join(out + [footer]) + "\n")


if __name__ == "__main__":
    main()
