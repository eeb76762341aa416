"""Configuration classes, fed by the environment.

``Config`` is development (the default), ``TestingConfig`` is used by the test
suite and ``ProductionConfig`` is chosen with ``COMPTOIR_ENV=production`` (the
Procfile's environment). Production refuses to start without ``SECRET_KEY``.
"""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

#: Currencies the shop sells in, one per market, in the selector's order.
MARKETS = {
    "XOF": "Burkina Faso / UEMOA",
    "XAF": "Cameroun / CEMAC",
    "RWF": "Rwanda",
    "NGN": "Nigeria",
    "USD": "International (USD)",
}


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot work."""


def database_url(url: str | None, default: str) -> str:
    """Return a SQLAlchemy URL, accepting Heroku's ``postgres://`` scheme."""
    url = url or default
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable, naming it when it is not one."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Development defaults: SQLite file, simulator on, nothing to set."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL"), f"sqlite:///{BASE_DIR / 'instance' / 'comptoir.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = 1024 * 1024
    CALLBACK_MAX_BYTES = env_int("CALLBACK_MAX_BYTES", 64 * 1024)
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a checkout form left open for an hour still submits

    SHOP_NAME = os.environ.get("SHOP_NAME", "Comptoir")
    #: Absolute base URL the gateways call back and send browsers to.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "XOF")
    #: The shop's language when the customer chose none and the browser asks for neither (fr, en).
    DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "fr")
    ORDER_EXPIRY_MINUTES = env_int("ORDER_EXPIRY_MINUTES", 30)
    CART_MAX_QUANTITY = env_int("CART_MAX_QUANTITY", 10)
    CART_MAX_LINES = env_int("CART_MAX_LINES", 30)
    #: The order page asks the gateway at most this often per payment.
    STATUS_RECHECK_SECONDS = env_int("STATUS_RECHECK_SECONDS", 10)
    GATEWAY_TIMEOUT_SECONDS = env_int("GATEWAY_TIMEOUT_SECONDS", 10)
    #: Reconciliation: least age of a status check before asking again, the pause
    #: between two calls to one gateway, and how long it keeps asking about expired attempts.
    RECONCILE_MIN_AGE_SECONDS = env_int("RECONCILE_MIN_AGE_SECONDS", 60)
    RECONCILE_GATEWAY_PAUSE_SECONDS = float(os.environ.get("RECONCILE_GATEWAY_PAUSE_SECONDS", "0.5"))
    RECONCILE_LATE_HOURS = env_int("RECONCILE_LATE_HOURS", 24)

    #: Merchant dashboard: a payment open longer than this is listed under "Needs attention".
    ATTENTION_PENDING_MINUTES = env_int("ATTENTION_PENDING_MINUTES", 60)
    #: Failed dashboard logins allowed per client address (Flask-Limiter syntax).
    ADMIN_LOGIN_RATE_LIMIT = os.environ.get("ADMIN_LOGIN_RATE_LIMIT", "5 per minute;20 per hour")
    #: Where rate-limit counters live: memory (one process) or e.g. ``redis://host:6379/0``.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: The largest product photo accepted (resized to WebP/JPEG variants, see services/images.py).
    PRODUCT_IMAGE_MAX_BYTES = env_int("PRODUCT_IMAGE_MAX_BYTES", 8 * 1024 * 1024)
    #: Where the variants are kept: "database" (the image_blob table; S3 is not built yet).
    IMAGE_STORAGE = os.environ.get("IMAGE_STORAGE", "database")

    #: Customer e-mails: "smtp" when MAIL_SERVER is set, else "log" (written to the log only).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND") or ("smtp" if MAIL_SERVER else "log")
    MAIL_PORT = env_int("MAIL_PORT", 587)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Comptoir <shop@localhost>")
    MAIL_TIMEOUT_SECONDS = env_int("MAIL_TIMEOUT_SECONDS", 10)
    #: A sender that claimed an e-mail and vanished gives it back after this long.
    MAIL_CLAIM_MINUTES = env_int("MAIL_CLAIM_MINUTES", 10)
    #: Send new e-mails as soon as the response that wrote them has gone out (else: reconcile).
    MAIL_SEND_AFTER_RESPONSE = env_bool("MAIL_SEND_AFTER_RESPONSE", True)

    #: The built-in gateway simulator; ``None`` means "on unless production".
    SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", True)
    # Gateway settings (<GATEWAY>_<KEY>) are read from the environment by
    # services.gateways.gateway_settings, from each provider's declared keys.


class TestingConfig(Config):
    """The test suite's configuration: its own database, fast timeouts."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("TEST_DATABASE_URL"), f"sqlite:///{BASE_DIR / 'instance' / 'test.db'}"
    )
    GATEWAY_TIMEOUT_SECONDS = 2
    STATUS_RECHECK_SECONDS = 0
    RECONCILE_MIN_AGE_SECONDS = 0
    RECONCILE_GATEWAY_PAUSE_SECONDS = 0.0
    MAIL_BACKEND = "memory"
    # Tests send explicitly: a send after the response would race the next test's clean-up.
    MAIL_SEND_AFTER_RESPONSE = False
    DEFAULT_LOCALE = "en"  # the suite reads English pages unless a test asks for French
    SIMULATOR_ENABLED = True


class ProductionConfig(Config):
    """Production: secrets and database from the environment, simulator off."""

    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", False)


CONFIGS = {
    "development": Config,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def validate(config: dict) -> None:
    """Refuse configurations that cannot run safely, naming what is missing."""
    if config.get("IMAGE_STORAGE", "database") != "database":
        raise ConfigError("IMAGE_STORAGE must be 'database' (S3 storage is not built yet)")
    if config.get("ENV_NAME") != "production":
        return
    if not config.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY must be set in production")
    if not os.environ.get("DATABASE_URL") and config["SQLALCHEMY_DATABASE_URI"].startswith(
        "sqlite"
    ):
        raise ConfigError("DATABASE_URL must be set in production (SQLite is not kept on Heroku)")
