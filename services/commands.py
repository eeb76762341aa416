"""``flask`` commands for operators: demo data, reconciliation."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from services import demo, orders
from services.payments import refresh_status


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
@with_appcontext
def reconcile_command() -> None:
    """Re-check open payments of orders past their expiry, then expire what is unpaid."""
    expired = 0
    for order in orders.due_for_expiry():
        for payment in list(order.payments):
            if payment.status in ("created", "pending"):
                refresh_status(payment, force=True, kind="status-check", note="reconciliation")
        if orders.expire_order(order):
            expired += 1
    click.echo(f"Reconciled: {expired} order(s) expired and their stock released.")


commands = [seed_demo_command, reconcile_command]
