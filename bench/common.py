"""Shared helpers of the benchmarks: environment, databases, servers, load, tables.

Everything runs on loopback; every server a script starts is killed when it ends.
The app is configured as in production (``COMPTOIR_ENV=production``) with the
simulator on, so that checkout works without any real gateway.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
SECRET_KEY = "bench-secret-key-not-for-production"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
#: PostgreSQL bench databases are <prefix><tag>, created and dropped (BENCH_PG_PREFIX, e.g. perf_bench_).
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "bench_")
#: Threads per gunicorn worker, as gunicorn.conf.py reads them.
THREADS = os.environ.get("GUNICORN_THREADS", "16")
LOG_DIR = Path(tempfile.gettempdir()) / "comptoir-bench-logs"

# Production config, set before ``config`` is first imported (its classes read the environment).
os.environ.setdefault("COMPTOIR_ENV", "production")
os.environ.setdefault("SECRET_KEY", SECRET_KEY)
os.environ.setdefault("SIMULATOR_ENABLED", "1")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/comptoir-bench-placeholder.db")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- output -----------------------------------------------------------------

def table(headers: list[str], rows: list[list], title: str = "") -> str:
    """A GitHub-flavoured Markdown table (pasteable into bench/README.md)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"
    out = [f"\n{title}\n" if title else ""]
    out += [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells]
    text = "\n".join(out)
    print(text, flush=True)
    return text


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def median_range(values: list[float], fmt: str = "{:,.0f}") -> str:
    """``median [min–max]`` of several runs."""
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} [{fmt.format(min(values))}–{fmt.format(max(values))}]"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def machine() -> str:
    """One paragraph naming the machine and software, and the load right now."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    pg = "-"
    if pg_available():
        pg = psql("SHOW server_version", dbname="postgres").strip() or "-"
    wrk = "-"
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout + ""
        match = re.search(r"wrk (\S+)", out)
        wrk = match.group(1) if match else "?"
    names = ["flask", "werkzeug", "jinja2", "sqlalchemy", "flask-sqlalchemy", "flask-wtf",
             "gunicorn", "psycopg", "babel"]
    versions = ", ".join(f"{n} {version(n)}" for n in names)
    return (f"Machine: nproc={os.cpu_count()}, CPU: {cpu}, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {versions}; PostgreSQL {pg}; wrk {wrk}; "
            f"load average (1/5/15 min) at start: {load}")


# --- databases --------------------------------------------------------------

def sqlite_url(tag: str) -> str:
    """A fresh SQLite file /tmp/comptoir-bench-<tag>.db (removed first if present)."""
    path = Path(tempfile.gettempdir()) / f"comptoir-bench-{tag}.db"
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()
    return f"sqlite:///{path}"


def psql(sql: str, dbname: str = "postgres") -> str:
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    result = subprocess.run(["psql", url, "-Atqc", sql], capture_output=True, text=True, timeout=60)
    if result.returncode:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def pg_available() -> bool:
    if not shutil.which("psql"):
        return False
    try:
        psql("SELECT 1")
        return True
    except (RuntimeError, subprocess.TimeoutExpired):
        return False


def pg_url(tag: str) -> str:
    """A fresh PostgreSQL database ``bench_<tag>`` (dropped first if present)."""
    name = f"{PG_PREFIX}{tag}"
    assert re.fullmatch(r"[a-z_]*bench_[a-z0-9_]+", name), name
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def release(app, db: str, db_url: str) -> None:
    """Close the app's database connections and drop its PostgreSQL bench database."""
    with app.app_context():
        from extensions import db as sqla

        sqla.session.remove()
        sqla.engine.dispose()
    if db == "pg":
        drop_pg(db_url)


def drop_pg(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if name.startswith(PG_PREFIX):
        with contextlib.suppress(Exception):
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def env_for(db_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a production-configured shop on ``port``."""
    env = dict(os.environ)
    env.update(COMPTOIR_ENV="production", SECRET_KEY=SECRET_KEY, DATABASE_URL=db_url,
               SIMULATOR_ENABLED="1", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               FLASK_APP="app.py", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def flask_cli(env: dict[str, str], *args: str) -> None:
    """``flask db upgrade``, ``flask seed-demo`` …, as the README says."""
    subprocess.run([str(Path(PYTHON).parent / "flask"), *args], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=300)


def prepare_demo_db(db_url: str) -> None:
    """Migrate and seed the demo catalogue with the project's own commands."""
    env = env_for(db_url, 0)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "seed-demo")


# --- in-process app ---------------------------------------------------------

def make_app(db_url: str, public_base_url: str = "http://127.0.0.1:9", **overrides):
    """The production-configured app bound to ``db_url`` (schema migrated)."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(db_url),
                      "PUBLIC_BASE_URL": public_base_url, **overrides})
    with app.app_context():
        upgrade()
    return app


def _sqlalchemy_url(url: str) -> str:
    from config import database_url

    return database_url(url, url)


class QueryCounter:
    """Counts SQL statements sent through ``engine`` (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.count, self.statements = engine, 0, []
        self._event = event
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        self.count, self.statements = 0, []

    def close(self) -> None:
        self._event.remove(self.engine, "before_cursor_execute", self._on)


# --- servers ----------------------------------------------------------------

_children: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    """Wait until ``path`` answers on ``port``."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status < 500:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout} s")


def gunicorn(app_spec: str, port: int, env: dict[str, str], *, workers: int | None = None,
             threads: int | None = None, name: str = "server") -> subprocess.Popen:
    """Start gunicorn with the production ``gunicorn.conf.py``, bound to loopback.

    ``workers``/``threads`` go through WEB_CONCURRENCY/GUNICORN_THREADS, as on the
    platform; the command-line ``--bind`` overrides the config's 0.0.0.0.
    """
    env = dict(env)
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads is not None:
        env["GUNICORN_THREADS"] = str(threads)
    LOG_DIR.mkdir(exist_ok=True)
    log = open(LOG_DIR / f"{name}-{port}.log", "wb")
    proc = subprocess.Popen(
        [GUNICORN, app_spec, "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Stop one server we started (its own process group: master and workers)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc in _children:
        _children.remove(proc)


@atexit.register
def _stop_all() -> None:
    for proc in list(_children):
        stop(proc)


def _on_signal(signum, _frame) -> None:
    _stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


@contextlib.contextmanager
def serving(app_spec: str, port: int, env: dict[str, str], **kwargs) -> Iterator[subprocess.Popen]:
    proc = gunicorn(app_spec, port, env, **kwargs)
    try:
        wait_http(port)
        yield proc
    finally:
        stop(proc)


# --- load generation --------------------------------------------------------

@dataclass
class Load:
    rps: float
    p50: float  # ms
    p99: float  # ms
    requests: int
    errors: int  # non-2xx/3xx answers plus socket errors
    tool: str


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def load(url: str, seconds: float, connections: int, headers: dict[str, str] | None = None) -> Load:
    """Closed-loop load on ``url``: wrk when installed, else the Python fallback."""
    if wrk_available() and not os.environ.get("BENCH_PYTHON_LOAD"):
        return _wrk(url, seconds, connections, headers or {})
    return _python_load(url, seconds, connections, headers or {})


def _wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> Load:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "5s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors += sum(int(x) for x in sock.groups()) if sock else 0
    return Load(rps, _wrk_ms(lat["50"]), _wrk_ms(lat["99"]), count, errors, "wrk -t1")


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def _python_load(url: str, seconds: float, connections: int, headers: dict[str, str]) -> Load:
    """A pure-Python closed-loop generator (threads with keep-alive connections).

    It is far slower than wrk: figures measured with it are bounded by the generator.
    """
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        mine, bad = [], 0
        while time.monotonic() < end:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                continue
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if not latencies:
        return Load(0, 0, 0, 0, errors[0], "python")
    return Load(len(latencies) / elapsed, percentile(latencies, 50) * 1000,
                percentile(latencies, 99) * 1000, len(latencies), errors[0], "python threads")
