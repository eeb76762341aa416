"""The gateway simulator: Comptoir's stand-in for the real gateways.

Each gateway is served under ``/_sim/<gateway>/`` with its real paths, headers,
authentication, body checks, hosted payment page, callbacks and status API, so
the provider modules run unchanged against it. Mounted only when
``SIMULATOR_ENABLED`` (on in development and tests, off in production).
State is kept in memory: run it in one process (``flask run``), not several.
Only ``app.py`` (development wiring) and the tests import it; it imports none of
the shop's rooms, only the shop's ``extensions`` (CSRF exemption), so it speaks
the gateways' wire formats with code of its own (import-linter, pyproject.toml).
"""
from __future__ import annotations

from flask import Blueprint, Flask

#: The credentials the simulator accepts, used when a gateway has none configured.
SIM_CREDENTIALS: dict[str, dict[str, str]] = {
    "ligdicash": {"api_key": "sim-ligdicash-apikey", "api_token": "sim-ligdicash-api-token"},
    "payunit": {"api_user": "sim-payunit-user", "api_password": "sim-payunit-password",
                "api_key": "sim-payunit-api-key", "mode": "test"},
    "irembopay": {"secret_key": "sim-irembopay-secret-key", "account_rwf": "SIM-RWF-ACCOUNT",
                  "account_usd": "SIM-USD-ACCOUNT", "default_product_code": "PC-SIM-SHOP"},
    "paycashless": {"api_key": "sim-paycashless-api-key", "api_secret": "sim-paycashless-api-secret"},
    "fcfpay": {"api_key": "sim-fcfpay-api-key"},
}

#: The Africa's Talking account the SMS simulator accepts (used when none is configured).
SIM_SMS = {"username": "sandbox", "api_key": "sim-africastalking-api-key", "path": "/_sim/africastalking"}

bp = Blueprint("simulator", __name__, url_prefix="/_sim")


def install(app: Flask) -> None:
    """Mount the simulator and offer its credentials for every gateway left unconfigured."""
    from extensions import csrf

    csrf.exempt(bp)  # stands in for the gateways' own sites
    app.register_blueprint(bp)
    app.config["SIMULATED_GATEWAYS"] = SIM_CREDENTIALS
    app.config["SIMULATED_SMS"] = SIM_SMS

from . import fcfpay, irembopay, ligdicash, paycashless, payunit, routes, sms  # noqa: E402,F401  (registers the routes)
