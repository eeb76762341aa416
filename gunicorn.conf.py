"""Gunicorn settings, read from the environment the Heroku way."""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads keep the shop answering while customers wait on a slow gateway; the per-gateway
# bulkhead (GATEWAY_CONCURRENCY, 4 create + 4 status calls per process) keeps one gateway from
# taking more than half of them. Why threads and not gevent: docs/performance.md.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Above the gateway timeout (10 s), below the router's 30 s limit.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "25"))
# The shop writes its own line per request (core/requestlog.py: JSON, a request id, the route
# rather than the path, whose order tokens are capabilities); GUNICORN_ACCESSLOG=- adds gunicorn's.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
forwarded_allow_ips = "*"


def on_starting(server) -> None:
    """Check the configuration once, in the master: a bad one stops here with one line
    naming the variable, instead of every worker failing to boot with a traceback."""
    from app import check_config

    check_config()
