"""Which gateways are on, with which settings, and building their providers."""
from __future__ import annotations

import os

import requests
from flask import current_app

from config import ConfigError
from providers import REGISTRY
from providers.base import GatewayHTTP, PaymentProvider


def setting(config, name: str, key: str, default: str = "") -> str:
    """``<NAME>_<KEY>`` from the app config, else the environment, else ``default``."""
    var = f"{name.upper()}_{key.upper()}"
    value = config.get(var)
    if value in (None, ""):
        value = os.environ.get(var, "")
    return str(value) if value not in (None, "") else default


def credentials_in_use(config) -> list[str | None]:
    """Every credential of the gateways switched on (real or simulated): kept out of the logs."""
    found: list[str | None] = []
    for name, cls in REGISTRY.items():
        settings = gateway_settings(config, name) or {}
        found.extend(settings.get(key) for key in cls.credential_keys)
    return found


def gateway_settings(config, name: str) -> dict[str, str] | None:
    """Settings for one gateway: its own credentials, the simulator's, or None (off).

    The simulator's credentials are in ``SIMULATED_GATEWAYS`` only when it is mounted
    (``simulator.install``): this module never imports it. A gateway with some but not all
    of its credentials is a configuration error.
    """
    cls = REGISTRY[name]
    creds = {key: setting(config, name, key) for key in cls.credential_keys}
    options = {key: setting(config, name, key, default) for key, default in cls.option_defaults.items()}
    live = {"live_only": "yes" if config.get("LIVE_MONEY_ONLY") else ""}
    if all(creds.values()):
        base = setting(config, name, "base_url", cls.default_base_url)
        return {**options, **creds, **live, "base_url": base, "simulated": ""}
    if any(creds.values()):
        missing = [f"{name.upper()}_{k.upper()}" for k, v in creds.items() if not v]
        raise ConfigError(f"{name} is half-configured: set {', '.join(missing)}")
    simulated = (config.get("SIMULATED_GATEWAYS") or {}).get(name)
    if simulated is not None:
        base = config["PUBLIC_BASE_URL"].rstrip("/") + "/_sim/" + cls.simulator_path
        return {**options, **simulated, **live, "base_url": base, "simulated": "yes"}
    return None


def check_configuration(config) -> None:
    """Raise ConfigError now, at start-up, for any half-configured gateway, or one whose
    settings would take money the wrong way (the provider's ``settings_problem``)."""
    production = config.get("ENV_NAME") == "production"
    for name, cls in REGISTRY.items():
        settings = gateway_settings(config, name)
        if settings is None or settings.get("simulated"):
            continue
        problem = cls.settings_problem(settings, production)
        if problem:
            raise ConfigError(f"{name}: {problem}")


def enabled_gateways(currency: str | None = None) -> list[type[PaymentProvider]]:
    """Provider classes switched on, optionally only those accepting ``currency``."""
    config = current_app.config
    enabled = []
    for name, cls in REGISTRY.items():
        settings = gateway_settings(config, name)
        if settings is not None and (currency is None or cls.accepts(settings, currency)):
            enabled.append(cls)
    return enabled


def get_provider(name: str) -> PaymentProvider:
    """A ready provider for ``name``; KeyError when it is unknown or switched off."""
    settings = gateway_settings(current_app.config, name)
    if settings is None:
        raise KeyError(name)
    http = GatewayHTTP(
        http_session(), current_app.config["GATEWAY_TIMEOUT_SECONDS"], REGISTRY[name].display_name
    )
    return REGISTRY[name](settings, http)


def http_session() -> requests.Session:
    """The app's one ``requests.Session`` for gateway calls."""
    session = current_app.extensions.get("comptoir.http")
    if session is None:
        session = current_app.extensions["comptoir.http"] = requests.Session()
    return session
