"""Web dynos for tests: gunicorn started the Procfile's way (production config, the suite's
database, the suite's simulator standing in for the gateways), stopped at the end."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from simulator import SIM_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "multi-dyno-test-" + "k" * 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dyno_env(app, name: str, **extra: str) -> dict[str, str]:
    """What a dyno has: production (the default), the database, a secret, PayUnit's settings."""
    creds = SIM_CREDENTIALS["payunit"]
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgres://", 1)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DYNO": name, "DATABASE_URL": url,
            "SECRET_KEY": SECRET, "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
            "PAYUNIT_API_USER": creds["api_user"], "PAYUNIT_API_PASSWORD": creds["api_password"],
            "PAYUNIT_API_KEY": creds["api_key"], "PAYUNIT_MODE": "test",
            "PAYUNIT_BASE_URL": app.config["PUBLIC_BASE_URL"] + "/_sim/payunit/",
            "RECONCILE_MIN_AGE_SECONDS": "0", "RECONCILE_GATEWAY_PAUSE_SECONDS": "0",
            "WEB_CONCURRENCY": "1", **extra}


class WebDynos:
    """Gunicorn processes started the Procfile's way; stopped (by their own pid) at the end."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []

    def start(self, env: dict[str, str]) -> str:
        port = free_port()
        log = open(self.logs / f"{env['DYNO']}.log", "wb")
        proc = subprocess.Popen([str(BIN / "gunicorn"), "app:create_app()", "--config", "gunicorn.conf.py"],
                                cwd=ROOT, env={**env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    self.urls.append(url)
                    return url
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow to boot on a busy machine
                pass
            assert proc.poll() is None, (self.logs / f"{env['DYNO']}.log").read_text()
            time.sleep(0.25)
        raise AssertionError(f"{env['DYNO']} did not answer /healthz")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def gateway_env(app, gateway: str, **keys: str) -> dict[str, str]:
    """``<GATEWAY>_*`` variables: the simulator's credentials and its URL on the suite's server."""
    from providers import REGISTRY

    settings = {**SIM_CREDENTIALS[gateway], **keys}
    env = {f"{gateway.upper()}_{k.upper()}": v for k, v in settings.items()}
    env[f"{gateway.upper()}_BASE_URL"] = (app.config["PUBLIC_BASE_URL"] + "/_sim/"
                                          + REGISTRY[gateway].simulator_path)
    return env


def workers_of(master: subprocess.Popen) -> list[int]:
    """The pids of a gunicorn master's worker processes (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master.pid:
            found.append(int(entry.name))
    return found


def kill_workers(master: subprocess.Popen) -> list[int]:
    """SIGKILL every worker of ``master`` (an OOM kill, a dyno's hard stop); the master starts new ones."""
    pids = workers_of(master)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return pids
