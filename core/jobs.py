"""Background jobs on RQ (Redis Queue), named by dotted path so any room can ask for one.

``enqueue("mail.outbox.send_one", email_id)`` puts a job on the shop's queue when a Redis is
configured (``REDIS_URL``, or ``JOBS_REDIS_URL``) and reachable, and returns True; otherwise it
returns False and the caller does what the shop did before it had a queue (send after the
response, hold a timer in the process). Jobs are named by dotted path with small arguments
(ids), so a low room (payments, mail) asks for a job without importing the room that runs it,
and a job is only ever code of this repository.

Every job is ``perform(name, *args)``: it runs ``name`` in the worker's app context, with the id
of the request that asked for it in its log lines, and leaves no database session behind. A job
that raises is retried by RQ (``Retry``, intervals from ``JOB_RETRY_INTERVALS``) and, once out
of retries, kept in RQ's FailedJobRegistry, which the dashboard lists with a retry button.
A periodic job (``every``) schedules its next run itself, under an id made of its name and the
slot's time, so any number of workers keep one run per slot. The database stays the source of
truth (the outboxes, the payments): a job lost with Redis is done by the next periodic pass.
"""
from __future__ import annotations

import importlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import current_app

from core.requestlog import current_request_id
from extensions import db

log = logging.getLogger(__name__)

#: The one queue the shop's workers listen to (JOBS_QUEUE_NAME: a second shop on one Redis).
QUEUE_NAME = "comptoir"
#: Outboxes a drain job knows: name → the dotted path of its ``deliver()`` (sends what is due,
#: returns how many). Another outbox (SMS) is one more line here.
OUTBOXES: dict[str, str] = {
    "email": "mail.outbox.deliver",
    "sms": "notifications.sms.deliver",
    "photos": "media.images.prepare_due",  # uploads whose resizing job was lost
}


def redis_url(config) -> str:
    """Where the queue lives: JOBS_REDIS_URL, else REDIS_URL; empty means no queue (inline)."""
    return config.get("JOBS_REDIS_URL") or ""


def connection(config=None, *, blocking: bool = False):
    """The Redis client for the queue, one per process and URL. The web's has short timeouts (a
    Redis away must not hold a page); a worker's (``blocking``) waits on the queue as long as RQ
    asks, so it has none."""
    from redis import Redis

    config = config if config is not None else current_app.config
    url = redis_url(config)
    if not url:
        return None
    key = (url, blocking)
    if key not in _CLIENTS:
        timeout = None if blocking else config.get("JOBS_REDIS_TIMEOUT_SECONDS", 1.0)
        options: dict[str, Any] = {"socket_connect_timeout": timeout or 5.0, "socket_timeout": timeout}
        if url.startswith("rediss://"):  # Heroku Redis: TLS with a self-signed certificate
            options["ssl_cert_reqs"] = None
        _CLIENTS[key] = Redis.from_url(url, **options)
    return _CLIENTS[key]


_CLIENTS: dict[tuple[str, bool], Any] = {}


def queue(config=None, *, blocking: bool = False):
    """The shop's RQ queue, or None without a Redis configured."""
    from rq import Queue

    conn = connection(config, blocking=blocking)
    config = config if config is not None else current_app.config
    return Queue(config.get("JOBS_QUEUE_NAME") or QUEUE_NAME, connection=conn) if conn is not None else None


def retry_policy(config=None):
    """RQ's Retry from JOB_RETRY_INTERVALS (seconds, comma-separated: one retry each)."""
    from rq import Retry

    intervals = intervals_of((config if config is not None else current_app.config)["JOB_RETRY_INTERVALS"])
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def intervals_of(raw: str) -> list[int]:
    return [int(part) for part in str(raw).replace(" ", "").split(",") if part]


def enqueue(name: str, *args: Any, delay: float | None = None, at: datetime | None = None,
            job_id: str | None = None, retry: bool = True, description: str | None = None,
            meta: dict[str, Any] | None = None) -> bool:
    """Queue ``name(*args)`` (now, in ``delay`` seconds, or ``at``). False when there is no
    queue or Redis does not answer: the caller then does the work its own way."""
    from redis.exceptions import RedisError

    q = queue()
    if q is None:
        return False
    if job_id and q.name != QUEUE_NAME:
        # RQ's job ids are global to the Redis: a second shop's (its own JOBS_QUEUE_NAME) carry
        # its queue's name, or its "email-5" and next reconciliation slot would overwrite ours
        job_id = f"{q.name}-{job_id}"
    options: dict[str, Any] = {
        "job_id": job_id, "description": description or f"{name}({', '.join(map(repr, args))})",
        "meta": {"request_id": current_request_id.get(), **(meta or {})},
        "failure_ttl": current_app.config["JOB_FAILURE_TTL_SECONDS"],
        "result_ttl": 3600, "job_timeout": current_app.config["JOB_TIMEOUT_SECONDS"],
    }
    if retry:
        options["retry"] = retry_policy()
    if delay and at is None:
        # RQ keeps whole seconds and truncates: round up, so a job never runs before its time
        # (a confirmation that must wait for a gateway's window would find it still shut)
        at = datetime.fromtimestamp(math.ceil(time.time() + delay), tz=timezone.utc)
    try:
        if at is not None:
            q.enqueue_at(at, perform, name, *args, **options)
        else:
            q.enqueue(perform, name, *args, **options)
    except RedisError as exc:
        log.warning("job queue unreachable (%s): %s is done without it", type(exc).__name__, name)
        return False
    return True


def committed_ids(rows: list[Any]) -> list[int]:
    """The ids of the rows this request wrote that its transaction committed (none of a write
    that was rolled back): what may be queued or done once the response has gone out."""
    from sqlalchemy import inspect

    ids = []
    for row in rows:
        state = inspect(row)  # committed: it keeps its identity, even detached; rolled back: none
        if state.has_identity and not state.deleted and state.identity:
            ids.append(state.identity[0])
    return ids


def after_response(response: Any, work: Callable[[], Any], what: str) -> Any:
    """Do ``work()`` once ``response`` has gone out (the web process's way without a queue), in
    an app context of its own. Nobody waits for it any more, so a failure is only logged (``what``
    failed) and left to the periodic pass."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:
                log.exception("%s after the response failed", what)
            finally:
                db.session.remove()

    response.call_on_close(run)
    return response


def resolve(name: str) -> Callable[..., Any]:
    """The function a dotted name names (module path, then the attribute)."""
    module, _, attribute = name.rpartition(".")
    if not module:
        raise ValueError(f"not a dotted name: {name!r}")
    return getattr(importlib.import_module(module), attribute)


def perform(name: str, *args: Any) -> Any:
    """The job RQ runs: ``name(*args)`` in the worker's app context (``flask worker`` pushes
    one), logged under the asking request's id, the session removed whatever happens."""
    from rq import get_current_job

    job = get_current_job()
    meta = job.meta if job is not None else {}
    token = current_request_id.set(meta.get("request_id") or (job.id if job is not None else None))
    started = time.perf_counter()
    what = job.description if job is not None else name
    try:
        result = resolve(name)(*args)
        db.session.commit()
        log.info("job %s done in %.0f ms", what, (time.perf_counter() - started) * 1000)
        return result
    except Exception as exc:
        db.session.rollback()
        log.warning("job %s failed (%s: %s)", what, type(exc).__name__, str(exc)[:300])
        raise
    finally:
        db.session.remove()
        current_request_id.reset(token)
        if meta.get("every"):
            schedule_next(name, int(meta["every"]))


def drain(outbox: str) -> int:
    """Job: send what an outbox has due (its ``deliver()`` claims each item, so two drains never
    send one twice). Returns how many were sent."""
    return int(resolve(OUTBOXES[outbox])())


def drain_all() -> int:
    """Every outbox's due items (the periodic pass's last step)."""
    return sum(drain(name) for name in OUTBOXES)


def slot_id(name: str, when: float) -> str:
    """RQ job ids are letters, digits, ``_`` and ``-``."""
    return f"every-{name.replace('.', '_')}-{int(when)}"


def schedule_next(name: str, every: int, now: float | None = None) -> bool:
    """Put the next run of the periodic job ``name`` at the next multiple of ``every`` seconds.
    Its id holds the slot, so workers scheduling the same slot keep one job."""
    now = time.time() if now is None else now
    when = (math.floor(now / every) + 1) * every
    return enqueue(name, at=datetime.fromtimestamp(when, tz=timezone.utc), job_id=slot_id(name, when),
                   retry=False, description=f"{name}() every {every} s", meta={"every": every})


@dataclass
class Depth:
    """How much waits on the queue: to run now, scheduled for later, failed for good."""

    queued: int
    scheduled: int
    failed: int


def depth() -> Depth | None:
    """The queue's depth (raises RedisError when Redis does not answer); None without a queue."""
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry

    q = queue()
    if q is None:
        return None
    return Depth(queued=q.count, scheduled=ScheduledJobRegistry(queue=q).count,
                 failed=FailedJobRegistry(queue=q).count)


@dataclass
class FailedJob:
    """A job out of retries, as the dashboard shows it."""

    id: str
    description: str
    failed_at: datetime | None
    error: str
    retries: int


def failed_jobs(limit: int = 100) -> list[FailedJob]:
    """The jobs that kept failing, newest first (the dashboard's list)."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    from core.redaction import scrub

    q = queue()
    if q is None:
        return []
    registry = FailedJobRegistry(queue=q)
    ids = registry.get_job_ids(0, limit - 1, desc=True)
    found = []
    for job in Job.fetch_many(ids, connection=q.connection):
        if job is None:
            continue
        result = job.latest_result()
        text = (result.exc_string if result is not None else "") or ""
        last = [line for line in text.strip().splitlines() if line.strip()]
        found.append(FailedJob(id=job.id, description=scrub(job.description or job.func_name or job.id),
                               failed_at=job.ended_at, error=scrub(last[-1] if last else "")[:300],
                               retries=len(job.retry_intervals or [])))
    return found


def retry_failed(job_id: str) -> bool:
    """Put a failed job back on the queue (the dashboard's button). False if it is not there."""
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.registry import FailedJobRegistry

    q = queue()
    if q is None:
        return False
    try:
        FailedJobRegistry(queue=q).requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        return False
    return True

