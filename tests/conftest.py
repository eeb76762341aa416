"""Fixtures: one app and one live server per session (the simulator and the shop
over real HTTP), a fresh database per test, and shopper helpers.

The schema is built by the committed migrations. Set ``TEST_DATABASE_URL`` to
run the same suite on PostgreSQL.
"""
from __future__ import annotations

import os
import threading
import warnings

# Production is the default everywhere else: the suite says it is the suite, before any import
# reads the environment (config classes do, at import).
os.environ["COMPTOIR_ENV"] = "testing"

import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData, text
from werkzeug.serving import make_server

from app import create_app
from extensions import db, limiter
from payments import deferred, pacing
from shop.demo import seed_demo
from simulator.state import STATE
from tests.helpers import Shopper


def rebuild_schema(app) -> None:
    """Drop everything and build the schema from the committed migrations."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        else:  # every table there is, not just the models': a failed migration may have left one
            found = MetaData()
            with warnings.catch_warnings():  # SQLite cannot reflect expression indexes: dropped with their table
                warnings.simplefilter("ignore")
                found.reflect(db.engine)
            db.session.remove()
            with db.engine.begin() as connection:
                connection.execute(text("PRAGMA foreign_keys=OFF"))
                found.drop_all(connection)
        upgrade()


@pytest.fixture(scope="session")
def app():
    """The app under test, served on a random local port with the simulator on."""
    app = create_app("testing")
    rebuild_schema(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_database(app):
    """Empty every table, reload the demo catalogue, forget simulator state."""
    saved = dict(app.config)
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        seed_demo()
        db.session.remove()
        limiter.reset()  # rate-limit counters (sign-ins, rejected callbacks) are per test too
    deferred.cancel_all()  # a confirmation a callback scheduled belongs to its own test
    STATE.reset()
    pacing.forget_rests()  # a gateway's Retry-After is per test too
    yield
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def ctx(app):
    """An app context for reading and changing the database inside a test."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def base_url(app) -> str:
    return app.config["PUBLIC_BASE_URL"]


@pytest.fixture
def shopper(base_url, ctx) -> Shopper:
    """A customer's browser: cookies, CSRF tokens, real HTTP to the live server."""
    with Shopper(base_url) as browser:
        yield browser


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_report_header(config):
    from config import TestingConfig

    return f"database: {TestingConfig.SQLALCHEMY_DATABASE_URI.split('@')[-1]}"
