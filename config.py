"""Configuration classes, fed by the environment.

``ProductionConfig`` is the default: anything that is not ``make run``
(``COMPTOIR_ENV=development``, ``Config``) or the test suite (``testing``,
``TestingConfig``) runs as production, which refuses to start without a strong
``SECRET_KEY`` or a ``DATABASE_URL`` and mounts no simulator unless told to.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent

#: Currencies the shop sells in, one per market, in the selector's order.
MARKETS = {
    "XOF": "Burkina Faso / UEMOA",
    "XAF": "Cameroun / CEMAC",
    "RWF": "Rwanda",
    "NGN": "Nigeria",
    "USD": "International (USD)",
}


#: ``COMPTOIR_ENV`` when it is not set: Heroku and any other host never set it.
DEFAULT_ENV = "production"
#: Shortest ``SECRET_KEY`` production accepts (``secrets.token_hex(32)`` gives 64).
MIN_SECRET_KEY_LENGTH = 32
#: Keys that appear in this repository or in examples: never a production secret.
KNOWN_WEAK_KEYS = frozenset({
    "dev-only-not-secret", "test-secret-key",
    "change-me", "changeme", "secret", "dev", "development",
})


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


def served_base_url() -> str:
    """The address ``make run`` / ``flask run`` serves (``HOST``, ``PORT``), as a URL."""
    host = os.environ.get("HOST") or os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or os.environ.get("FLASK_RUN_PORT") or "5000"
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"  # reachable from this machine, which is where the simulator calls
    return f"http://{host}:{port}"


def production_base_url() -> str:
    """``PUBLIC_BASE_URL``, else the app's own domain when Heroku's dyno metadata gives it."""
    if os.environ.get("PUBLIC_BASE_URL"):
        return os.environ["PUBLIC_BASE_URL"]
    domain = os.environ.get("HEROKU_APP_DEFAULT_DOMAIN_NAME")
    return f"https://{domain}" if domain else ""


def host_list(raw: str | None, base_url: str) -> list[str]:
    """``ALLOWED_HOSTS`` (comma-separated), else the host of ``base_url``; empty means any."""
    if raw:
        return [host.strip() for host in raw.split(",") if host.strip()]
    host = urlsplit(base_url).hostname if base_url else None
    return [host] if host else []


def rate_limit_storage() -> str:
    """``RATELIMIT_STORAGE_URI``, else Heroku Redis' ``REDIS_URL``, else one process' memory."""
    return os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"


def rate_limit_storage_options(uri: str) -> dict[str, object]:
    """Heroku Redis speaks TLS with a self-signed certificate (``rediss://``)."""
    return {"ssl_cert_reqs": None} if uri.startswith("rediss://") else {}


def jobs_redis_url() -> str:
    """``JOBS_REDIS_URL``, else Heroku Redis' ``REDIS_URL``; empty: no queue, jobs run in the web process."""
    return os.environ.get("JOBS_REDIS_URL") or os.environ.get("REDIS_URL") or ""


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
    CALLBACK_MAX_BYTES = env_int("CALLBACK_MAX_BYTES", 64 * 1024)
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a checkout form left open for an hour still submits

    SHOP_NAME = os.environ.get("SHOP_NAME", "Comptoir")
    #: Absolute base URL the gateways call back and send browsers to.
    #: In development it defaults to the address served (``make run HOST=… PORT=…``).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or served_base_url()
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "XOF")
    #: The checkout's trust block. Empty delivery/returns notes show the shop's standard
    #: (translated) wording; an empty contact hides the contact line.
    SHOP_DELIVERY_NOTE = os.environ.get("SHOP_DELIVERY_NOTE", "")
    SHOP_RETURNS_NOTE = os.environ.get("SHOP_RETURNS_NOTE", "")
    SHOP_CONTACT = os.environ.get("SHOP_CONTACT", "+226 25 30 00 00 · bonjour@comptoir.example")
    #: The shop's language when the customer chose none and the browser asks for neither (fr, en).
    DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "fr")
    ORDER_EXPIRY_MINUTES = env_int("ORDER_EXPIRY_MINUTES", 30)
    CART_MAX_QUANTITY = env_int("CART_MAX_QUANTITY", 10)
    #: A variant at or below this many units is low stock (one e-mail to the merchant, the
    #: dashboard's list) unless its product or the dashboard's settings set another figure.
    LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 3)
    CART_MAX_LINES = env_int("CART_MAX_LINES", 30)
    #: The order page asks the gateway at most this often per payment.
    STATUS_RECHECK_SECONDS = env_int("STATUS_RECHECK_SECONDS", 10)
    GATEWAY_TIMEOUT_SECONDS = env_int("GATEWAY_TIMEOUT_SECONDS", 10)
    #: An attempt still ``created`` (no answer from its gateway) once its gateway's timeouts have
    #: passed was left by a request that stopped: the next checkout, retry or reconciliation asks
    #: the gateway by our reference where it can and takes it up or ends it. When the gateway
    #: cannot answer, it is ended anyway after this long (payments.attempts.end_stale_attempts).
    CREATED_STALE_SECONDS = env_int("CREATED_STALE_SECONDS", 120)
    #: Calls in flight to one gateway per process (create and status apart); one more is told
    #: "busy, try again" at once. Keep it well under gunicorn's threads (docs/performance.md).
    GATEWAY_CONCURRENCY = env_int("GATEWAY_CONCURRENCY", 4)
    #: Reconciliation: least age of a status check before asking again, the pause
    #: between two calls to one gateway, and how long it keeps asking about expired attempts.
    RECONCILE_MIN_AGE_SECONDS = env_int("RECONCILE_MIN_AGE_SECONDS", 60)
    RECONCILE_GATEWAY_PAUSE_SECONDS = float(os.environ.get("RECONCILE_GATEWAY_PAUSE_SECONDS", "0.5"))
    RECONCILE_LATE_HOURS = env_int("RECONCILE_LATE_HOURS", 24)

    #: Merchant dashboard: a payment open longer than this is listed under "Needs attention".
    ATTENTION_PENDING_MINUTES = env_int("ATTENTION_PENDING_MINUTES", 60)
    #: Failed dashboard logins allowed per client address (Flask-Limiter syntax).
    ADMIN_LOGIN_RATE_LIMIT = os.environ.get("ADMIN_LOGIN_RATE_LIMIT", "5 per minute;20 per hour")
    #: Where rate-limit counters live: memory (each process counts alone) or Redis
    #: (``redis://host:6379/0``; Heroku's ``REDIS_URL`` is used when set), shared by all processes.
    RATELIMIT_STORAGE_URI = rate_limit_storage()
    RATELIMIT_STORAGE_OPTIONS = rate_limit_storage_options(RATELIMIT_STORAGE_URI)
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "comptoir")
    #: Dashboard sessions end after this long without a request, and this long after sign-in.
    ADMIN_SESSION_IDLE_MINUTES = env_int("ADMIN_SESSION_IDLE_MINUTES", 30)
    ADMIN_SESSION_MAX_HOURS = env_int("ADMIN_SESSION_MAX_HOURS", 12)
    #: Rejected callbacks (bad signature, unknown payment, malformed) allowed per source address;
    #: past it the source gets 429 and nothing more is stored.
    CALLBACK_REJECT_RATE_LIMIT = os.environ.get("CALLBACK_REJECT_RATE_LIMIT", "60 per minute;600 per hour")
    RATELIMIT_HEADERS_ENABLED = True
    #: A Redis that stops answering never stops a page: counters fall back to this process'
    #: memory (with a logged warning) until it answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    #: Background jobs (core/jobs.py) on RQ: the Redis they wait in (REDIS_URL when unset).
    #: Empty: no queue; e-mails are sent after the response and confirmations wait in the web
    #: process, as `make run` does.
    JOBS_REDIS_URL = jobs_redis_url()
    #: The queue's name in that Redis (two shops sharing one Redis need two names).
    JOBS_QUEUE_NAME = os.environ.get("JOBS_QUEUE_NAME", "comptoir")
    #: How long the web process waits for Redis before doing a job's work itself.
    JOBS_REDIS_TIMEOUT_SECONDS = float(os.environ.get("JOBS_REDIS_TIMEOUT_SECONDS", "1"))
    #: A failing job is retried after each of these delays (seconds), then kept as failed and
    #: listed in the dashboard (Jobs) with a retry button, for JOB_FAILURE_TTL_SECONDS.
    JOB_RETRY_INTERVALS = os.environ.get("JOB_RETRY_INTERVALS", "10,60,300")
    JOB_FAILURE_TTL_SECONDS = env_int("JOB_FAILURE_TTL_SECONDS", 7 * 24 * 3600)
    JOB_TIMEOUT_SECONDS = env_int("JOB_TIMEOUT_SECONDS", 300)
    #: The worker's reconciliation pass (re-check payments, expire orders, daily summary,
    #: outboxes) runs every this many seconds.
    RECONCILE_INTERVAL_SECONDS = env_int("RECONCILE_INTERVAL_SECONDS", 60)
    #: Log lines: "json" (one object per line, production) or "text".
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    #: The largest product photo accepted (resized to WebP/JPEG variants, see media/images.py).
    PRODUCT_IMAGE_MAX_BYTES = env_int("PRODUCT_IMAGE_MAX_BYTES", 8 * 1024 * 1024)
    #: Where the variants are kept: "database" (the image_blob table) or "s3" (an S3-compatible
    #: bucket, media/s3.py; credentials from boto3's own chain, AWS_ACCESS_KEY_ID and
    #: AWS_SECRET_ACCESS_KEY). See docs/images.md.
    IMAGE_STORAGE = os.environ.get("IMAGE_STORAGE", "database")
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    #: Empty for AWS; R2, Scaleway, MinIO: their endpoint (https://<account>.r2.cloudflarestorage.com).
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
    S3_REGION = os.environ.get("S3_REGION", "")
    #: The bucket's public (or CDN) URL: pages link the photos there instead of /media/.
    IMAGE_PUBLIC_BASE_URL = os.environ.get("IMAGE_PUBLIC_BASE_URL", "")
    #: The largest request body: an image at the limit plus the product form around it
    #: (a larger one gets the 413 page, which names the image limit).
    MAX_CONTENT_LENGTH = PRODUCT_IMAGE_MAX_BYTES + 64 * 1024

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

    #: The merchant's address(es) for "new paid order" e-mails and the daily summary of what
    #: waits to be fulfilled (comma-separated; empty: no merchant e-mail), and their language.
    MERCHANT_EMAIL = os.environ.get("MERCHANT_EMAIL", "")
    MERCHANT_LOCALE = os.environ.get("MERCHANT_LOCALE", "")  # empty: DEFAULT_LOCALE
    #: The daily summary is written by the first reconciliation pass from this hour (UTC).
    MERCHANT_SUMMARY_HOUR = env_int("MERCHANT_SUMMARY_HOUR", 6)

    #: Customer texts (notifications.sms): "" (off), "log" (development: written to the log) or
    #: "africastalking" (its SMS API, with the username and API key below; with the simulator
    #: mounted and no key, the simulator's /_sim/africastalking). See docs/after-sale.md.
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "").strip().lower()
    AFRICASTALKING_USERNAME = os.environ.get("AFRICASTALKING_USERNAME", "")
    AFRICASTALKING_API_KEY = os.environ.get("AFRICASTALKING_API_KEY", "")
    #: The API's base URL: live by default; https://api.sandbox.africastalking.com for the sandbox.
    AFRICASTALKING_BASE_URL = os.environ.get("AFRICASTALKING_BASE_URL", "")
    #: The sender id (alphanumeric or short code) registered with the provider; empty: its default.
    SMS_SENDER_ID = os.environ.get("SMS_SENDER_ID", "")
    SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)
    #: Send new texts as soon as the response that wrote them has gone out (else: reconcile).
    SMS_SEND_AFTER_RESPONSE = env_bool("SMS_SEND_AFTER_RESPONSE", True)
    #: "Find my order" (order number + phone) tries allowed per client address.
    FIND_ORDER_RATE_LIMIT = os.environ.get("FIND_ORDER_RATE_LIMIT", "10 per minute;30 per hour")

    #: Refuse test-mode gateway answers (on in production, see ProductionConfig).
    LIVE_MONEY_ONLY = False
    #: The built-in gateway simulator; ``None`` means "on unless production".
    SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", True)
    # Gateway settings (<GATEWAY>_<KEY>) are read from the environment by
    # payments.gateways.gateway_settings, from each provider's declared keys.


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
    SMS_SEND_AFTER_RESPONSE = False
    SMS_PROVIDER = ""  # a test that wants texts turns them on (the simulator stands in)
    DEFAULT_LOCALE = "en"  # the suite reads English pages unless a test asks for French
    SIMULATOR_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"  # a test that needs Redis says so
    RATELIMIT_STORAGE_OPTIONS: dict[str, object] = {}
    JOBS_REDIS_URL = ""  # jobs inline, as make run; a test that needs the queue says so
    JOB_RETRY_INTERVALS = "1,1"
    # Photos in the database whatever the shell says: a test that needs a bucket starts its own.
    IMAGE_STORAGE = "database"
    IMAGE_PUBLIC_BASE_URL = ""


class ProductionConfig(Config):
    """Production: secrets and database from the environment, simulator off."""

    ENV_NAME = "production"
    #: Never the demo's contact line: a shop that gives none shows none (and its dashboard says so).
    SHOP_CONTACT = os.environ.get("SHOP_CONTACT", "")
    #: A gateway answering in test mode (Paycashless ``liveMode: false``: a sandbox key) never
    #: opens an invoice nor pays an order here (issue 31).
    LIVE_MONEY_ONLY = True
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", False)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    PUBLIC_BASE_URL = production_base_url()
    #: ``Host`` header allow-list (Flask's ``TRUSTED_HOSTS``); ``.example.com`` allows subdomains.
    TRUSTED_HOSTS = host_list(os.environ.get("ALLOWED_HOSTS"), PUBLIC_BASE_URL) or None
    #: Redirect plain HTTP to HTTPS, unless the shop is deliberately served over plain HTTP.
    FORCE_HTTPS = env_bool("FORCE_HTTPS", not PUBLIC_BASE_URL.startswith("http://"))


CONFIGS = {
    "development": Config,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


#: The SMS_PROVIDER values (notifications.sms.PROVIDERS; empty: off).
SMS_PROVIDERS = ("", "log", "africastalking")


def validate(config) -> None:
    """Refuse configurations that cannot run safely, naming what is missing."""
    check_image_storage(config)
    if (config.get("SMS_PROVIDER") or "") not in SMS_PROVIDERS:
        raise ConfigError(f"SMS_PROVIDER must be empty (off), 'log' or 'africastalking', "
                          f"got {config.get('SMS_PROVIDER')!r}")
    check_jobs(config)
    if config.get("ENV_NAME") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if not secret:
        raise ConfigError("SECRET_KEY must be set in production "
                          "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')")
    if len(secret) < MIN_SECRET_KEY_LENGTH or secret.lower() in KNOWN_WEAK_KEYS:
        raise ConfigError(f"SECRET_KEY is too weak for production: use at least "
                          f"{MIN_SECRET_KEY_LENGTH} random characters, never an example value")
    if not os.environ.get("DATABASE_URL") and config["SQLALCHEMY_DATABASE_URI"].startswith(
        "sqlite"
    ):
        raise ConfigError("DATABASE_URL must be set in production (SQLite is not kept on Heroku)")
    if config.get("SIMULATOR_ENABLED") and not config.get("PUBLIC_BASE_URL"):
        raise ConfigError("PUBLIC_BASE_URL must be set in production when SIMULATOR_ENABLED=1 "
                          "(the simulated gateways call the shop back there)")
    public_photos = config.get("IMAGE_PUBLIC_BASE_URL") or ""
    if public_photos and not public_photos.startswith("https://"):
        raise ConfigError("IMAGE_PUBLIC_BASE_URL must be an https:// URL in production "
                          "(pages served over HTTPS would show the photos as mixed content)")


def check_jobs(config) -> None:
    """The job queue's and the logs' settings, named when they cannot work."""
    raw = str(config.get("JOB_RETRY_INTERVALS", ""))
    try:
        intervals = [int(part) for part in raw.replace(" ", "").split(",") if part]
    except ValueError:
        intervals = [-1]
    if any(seconds < 0 for seconds in intervals):
        raise ConfigError(f"JOB_RETRY_INTERVALS must be seconds separated by commas (e.g. 10,60,300), got {raw!r}")
    url = config.get("JOBS_REDIS_URL") or ""
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("JOBS_REDIS_URL (or REDIS_URL) must be a redis:// or rediss:// URL")
    if config.get("LOG_FORMAT", "text") not in ("json", "text"):
        raise ConfigError("LOG_FORMAT must be 'json' or 'text'")


#: The IMAGE_STORAGE values (media/images.py BACKENDS).
IMAGE_STORAGES = ("database", "s3")


def check_image_storage(config) -> None:
    """The photo storage's settings, in every environment (validate adds production's https rule)."""
    storage = config.get("IMAGE_STORAGE") or "database"
    if storage not in IMAGE_STORAGES:
        raise ConfigError(f"IMAGE_STORAGE must be 'database' or 's3', got {storage!r}")
    if storage == "s3" and not config.get("S3_BUCKET"):
        raise ConfigError("S3_BUCKET must be set when IMAGE_STORAGE=s3 (the bucket that keeps the photos)")
    endpoint = config.get("S3_ENDPOINT_URL") or ""
    if storage == "s3" and endpoint and not _absolute_url(endpoint):
        raise ConfigError("S3_ENDPOINT_URL must be an http(s) URL such as "
                          "https://<account>.r2.cloudflarestorage.com")
    public = config.get("IMAGE_PUBLIC_BASE_URL") or ""
    if public and storage != "s3":
        raise ConfigError("IMAGE_PUBLIC_BASE_URL is only used with IMAGE_STORAGE=s3 "
                          "(the bucket's public or CDN URL)")
    if public and not _absolute_url(public):
        raise ConfigError("IMAGE_PUBLIC_BASE_URL must be an http(s) URL such as "
                          "https://photos.example.com (no query string)")


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query \
        and not parts.fragment and "@" not in parts.netloc
