"""One log line per request, and a request id on every line it causes.

Each request gets an id: the router's ``X-Request-ID`` when it sent a sane one (Heroku does),
else a new random one. It is sent back as ``X-Request-ID``, put on every log record made while
the request runs (gateway calls included: ``providers.base`` logs each one) and carried by the
jobs the request queues (``core.jobs``), so one id follows a purchase from the browser to the
worker. When the request ends, one line says its method, route, status, duration and the order
and payment references it dealt with (``tag``). With ``LOG_FORMAT=json`` (production's default)
every line is one JSON object; secrets are scrubbed from every record first (``core.redaction``).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, g, has_request_context, request

#: The id of the request (or job) a log line belongs to.
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
#: An incoming ``X-Request-ID`` we keep: what routers send (UUIDs, hex), nothing that could
#: forge a log line.
INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
HEADER = "X-Request-ID"

access_log = logging.getLogger("comptoir.request")
_factory_installed = False


def new_request_id(incoming: str | None) -> str:
    """The router's id when it is a sane one, else a new one."""
    if incoming and INCOMING_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def tag(*, order: str | None = None, payment: str | None = None) -> None:
    """Name the order and payment this request deals with, for its log line."""
    if not has_request_context():
        return
    if order:
        g.log_order = order
    if payment:
        g.log_payment = payment


def install(app: Flask) -> None:
    """Give each request an id and one log line; put the id on every record."""
    _install_record_factory()

    @app.before_request
    def start_request() -> None:
        g.request_id = new_request_id(request.headers.get(HEADER))
        g.request_started = time.perf_counter()
        g.request_id_token = current_request_id.set(g.request_id)

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id")
        if request_id is None:  # a response made before our before_request ran (an early abort)
            return response
        response.headers[HEADER] = request_id
        started = g.get("request_started")
        fields = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "order": g.get("log_order"),
            "payment": g.get("log_payment"),
        }
        # the route, never the path: an order page's path holds its token, a bearer capability
        access_log.info("%s %s %s %sms", fields["method"], fields["route"], fields["status"],
                        fields["duration_ms"], extra={"fields": fields})
        return response

    @app.teardown_request
    def end_request(_error) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                current_request_id.reset(token)
            except ValueError:  # torn down in another context than it started: nothing to reset
                current_request_id.set(None)


def _install_record_factory() -> None:
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the access
    line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: int = logging.INFO, fmt: str = "json") -> None:
    """The root handler for a server or a worker: JSON lines, or text with the request id."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "comptoir", False)]:
        root.removeHandler(old)
    handler.comptoir = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
