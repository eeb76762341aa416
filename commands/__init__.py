"""``flask`` commands for operators: the database, demo data, reconciliation and the job worker, accounts, photos to a bucket.

Registered by ``app.register_commands``. Like the blueprints, the commands may import every room
and no room imports them."""
from __future__ import annotations

import logging
import time

import click
from flask.cli import with_appcontext

from shop import demo


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no products yet.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo catalogue (idempotent)."""
    if if_empty and not demo.catalogue_is_empty():
        click.echo("Catalogue already has products: nothing to do.")
        return
    added = demo.seed_demo()
    click.echo(f"Demo catalogue ready ({added} products added).")


@click.command("reconcile")
@click.option("--loop", is_flag=True, help="Run forever (a worker or clock process).")
@click.option("--interval", default=60, show_default=True, help="Seconds between passes with --loop.")
@with_appcontext
def reconcile_command(loop: bool, interval: int) -> None:
    """Re-check open payments with their gateways, expire unpaid orders past their reservation."""
    from payments.reconcile import reconcile_once

    while True:
        try:
            report = reconcile_once()
            click.echo(f"Reconciled: {report.summary()}.")
        except Exception:  # the database away, a bug: the worker logs it and tries again next pass
            if not loop:
                raise
            logging.getLogger(__name__).exception("reconciliation pass failed; next one in %ss", interval)
        if not loop:
            return
        time.sleep(interval)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop (tests, a one-off dyno).")
@click.option("--interval", type=int, default=None,
              help="Seconds between reconciliation passes (default RECONCILE_INTERVAL_SECONDS).")
@with_appcontext
def worker_command(burst: bool, interval: int | None) -> None:
    """The Procfile's worker: runs the job queue (RQ, on JOBS_REDIS_URL or REDIS_URL) with its
    scheduler, and schedules the periodic reconciliation pass. Without a Redis it runs the
    reconciliation loop, as the worker did before the queue."""
    from flask import current_app
    from rq import SimpleWorker

    from core import jobs
    from core.requestlog import current_request_id

    interval = interval or current_app.config["RECONCILE_INTERVAL_SECONDS"]
    q = jobs.queue(blocking=True)
    if q is None:
        click.echo("No REDIS_URL (or JOBS_REDIS_URL): no job queue; running the reconciliation loop.")
        reconcile_command.callback(loop=not burst, interval=interval)  # type: ignore[misc]
        return
    if not jobs.schedule_next("payments.reconcile.scheduled_pass", interval):
        raise click.ClickException("the job queue's Redis does not answer")
    # SimpleWorker: jobs run in this process, in the app context this command pushed (one
    # database pool, no fork per job); the scheduler moves due delayed jobs to the queue.
    worker = SimpleWorker([q], connection=q.connection)
    current_request_id.set(None)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


@click.command("create-database")
@with_appcontext
def create_database_command() -> None:
    """Create the PostgreSQL database DATABASE_URL names if it does not exist yet (``make run``
    and ``make db`` run it first); SQLite files are created by the migrations themselves."""
    from flask import current_app
    from sqlalchemy import create_engine, make_url, text

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql" or not url.database:
        return
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": url.database})
            if not exists:
                name = url.database.replace('"', '""')
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                click.echo(f"Created the PostgreSQL database {url.database}.")
    except Exception as exc:  # the server itself unreachable, or no right to create: one line
        raise click.ClickException(f"cannot reach or create the database {url.database}: "
                                   f"{str(exc).splitlines()[0][:200]}") from None
    finally:
        server.dispose()


@click.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="COMPTOIR_ADMIN_PASSWORD", show_envvar=True,
              help="Asked for (twice) when not given; scripts pass it in COMPTOIR_ADMIN_PASSWORD "
                   "(never on a command line, where it would be echoed and seen by ps).")
@with_appcontext
def create_admin_command(email: str, password: str) -> None:
    """Create a dashboard account (or set the password of an existing one)."""
    from merchant.accounts import AdminError, save_admin

    try:
        admin, created = save_admin(email, password)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'Created' if created else 'Password changed for'} {admin.email}.")


@click.command("copy-photos-to-bucket")
@with_appcontext
def copy_photos_command() -> None:
    """Copy every photo variant kept in the database (image_blob) to the S3_BUCKET bucket, to
    move a shop to IMAGE_STORAGE=s3 (docs/images.md). Putting a key again is harmless: run it
    before switching, and once more after, for photos added meanwhile."""
    from flask import current_app
    from sqlalchemy import select

    from extensions import db
    from media.s3 import S3Storage
    from media.storage import StorageUnavailable
    from models import ImageBlob

    if not current_app.config.get("S3_BUCKET"):
        raise click.ClickException("S3_BUCKET is not set: no bucket to copy the photos to")
    bucket = S3Storage()
    keys = list(db.session.scalars(select(ImageBlob.key).order_by(ImageBlob.key)))
    for done, key in enumerate(keys):
        row = db.session.get_one(ImageBlob, key)  # one at a time: a few hundred KB each
        try:
            bucket.put({key: (row.content_type, bytes(row.data))})
        except StorageUnavailable as exc:
            raise click.ClickException(f"{exc} ({done} of {len(keys)} copied; run it again)") from None
        db.session.expunge(row)
    click.echo(f"{len(keys)} photo variants copied to the bucket {bucket.bucket}.")


commands = [seed_demo_command, reconcile_command, worker_command, create_database_command,
            create_admin_command, copy_photos_command]
