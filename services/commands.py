"""``flask`` commands for operators: demo data, reconciliation."""
from __future__ import annotations

import logging
import time

import click
from flask.cli import with_appcontext

from services import demo


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
    from services.reconcile import reconcile_once

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


@click.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for (twice) when not given; pass it only from scripts.")
@with_appcontext
def create_admin_command(email: str, password: str) -> None:
    """Create a dashboard account (or set the password of an existing one)."""
    from services.admin import AdminError, save_admin

    try:
        admin, created = save_admin(email, password)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'Created' if created else 'Password changed for'} {admin.email}.")


commands = [seed_demo_command, reconcile_command, create_admin_command]
