"""Which gateways are on, with which settings, and building their providers."""
from __future__ import annotations

import requests
from flask import current_app

from config import ConfigError
from providers import REGISTRY
from providers.base import GatewayHTTP, PaymentProvider
from simulator import SIM_CREDENTIALS


def gateway_settings(config, name: str) -> dict[str, str] | None:
    """Settings for one gateway: its own credentials, the simulator's, or None (off).

    A gateway with some but not all of its credentials is a configuration error.
    """
    cls = REGISTRY[name]
    prefix = name.upper()
    creds = {key: config.get(f"{prefix}_{key.upper()}") or "" for key in cls.credential_keys}
    if all(creds.values()):
        return {**creds, "base_url": config[f"{prefix}_BASE_URL"], "simulated": ""}
    if any(creds.values()):
        missing = [f"{prefix}_{k.upper()}" for k, v in creds.items() if not v]
        raise ConfigError(f"{name} is half-configured: set {', '.join(missing)}")
    if config.get("SIMULATOR_ENABLED"):
        base = config["PUBLIC_BASE_URL"].rstrip("/") + "/_sim/" + cls.simulator_path
        return {**SIM_CREDENTIALS[name], "base_url": base, "simulated": "yes"}
    return None


def check_configuration(config) -> None:
    """Raise ConfigError now, at start-up, for any half-configured gateway."""
    for name in REGISTRY:
        gateway_settings(config, name)


def enabled_gateways(currency: str | None = None) -> list[type[PaymentProvider]]:
    """Provider classes switched on, optionally only those accepting ``currency``."""
    config = current_app.config
    return [
        cls
        for name, cls in REGISTRY.items()
        if gateway_settings(config, name) is not None
        and (currency is None or currency in cls.currencies)
    ]


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
