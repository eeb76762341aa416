"""The application factory: a table of contents of the app."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, has_request_context, jsonify, redirect, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from whitenoise import WhiteNoise

import config as config_module
from extensions import babel, compress, csrf, db, limiter, login_manager, migrate

log = logging.getLogger("comptoir")


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Build the app. ``config`` is a config name, or a dict of overrides on top of
    the class chosen by ``COMPTOIR_ENV`` (production unless told otherwise).

    Started by a server or the ``flask`` command (no ``config``), a configuration
    error ends the process with one line naming the variable, not a traceback."""
    app = Flask(__name__, instance_relative_config=True)
    try:
        load_config(app, config)
    except config_module.ConfigError as exc:
        if config is not None:
            raise
        raise SystemExit(f"comptoir: configuration error: {exc}") from None
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    register_shellcontext(app)
    configure_logging(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that only matches database ids (32-bit): a larger number is a 404,
    not an out-of-range error from the database."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def load_config(app: Flask, config: dict[str, Any] | str | None) -> None:
    """Load the config class, then overrides; fail fast on unusable settings."""
    from dotenv import load_dotenv

    if not isinstance(config, str):
        load_dotenv(os.path.join(app.root_path, ".env"))
    name = config if isinstance(config, str) else os.environ.get("COMPTOIR_ENV") or config_module.DEFAULT_ENV
    if name not in config_module.CONFIGS:
        raise config_module.ConfigError(f"COMPTOIR_ENV must be one of {sorted(config_module.CONFIGS)}")
    app.config.from_object(config_module.CONFIGS[name])
    if isinstance(config, dict):
        app.config.update(config)
    config_module.validate(app.config)
    from payments.gateways import check_configuration

    check_configuration(app.config)
    check_public_base_url(app)
    os.makedirs(app.instance_path, exist_ok=True)


def check_config() -> None:
    """Validate the environment's configuration without building the app (gunicorn's master)."""
    try:
        load_config(Flask(__name__, instance_relative_config=True), None)
    except config_module.ConfigError as exc:
        raise SystemExit(f"comptoir: configuration error: {exc}") from None


def check_public_base_url(app: Flask) -> None:
    """Production needs PUBLIC_BASE_URL once a gateway is on; development warns on a wrong port."""
    base = app.config.get("PUBLIC_BASE_URL") or ""
    if app.config["ENV_NAME"] == "production" and not base:
        if any_gateway(app):
            raise config_module.ConfigError(
                "PUBLIC_BASE_URL must be set in production once a gateway is configured "
                "(e.g. https://shop.example.com: the gateways call the shop back there)")
    served = os.environ.get("PORT") or os.environ.get("FLASK_RUN_PORT")
    if app.config["ENV_NAME"] == "development" and served and base:
        port = urlsplit(base).port or (443 if base.startswith("https") else 80)
        if str(port) != served:
            sys.stderr.write(f"comptoir: warning: PUBLIC_BASE_URL is {base} but the shop is served on "
                             f"port {served}: gateways and the simulator will call the wrong address\n")


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    from core.i18n import select_locale

    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Sign in to use the dashboard."
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress.init_app(app)
    app.session_interface = StaticWithoutCookies()
    register_static(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    if app.config["ENV_NAME"] != "production":  # make run and the tests: Werkzeug's server
        from core.devserver import CloseWhenSent

        app.wsgi_app = CloseWhenSent(app.wsgi_app)  # type: ignore[method-assign]


class StaticWithoutCookies(SecureCookieSessionInterface):
    """Static files never carry ``Set-Cookie``: a late one could overwrite a newer cart."""

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if has_request_context() and request.endpoint == "static":
            return False
        return super().should_set_cookie(app, session)


def register_static(app: Flask) -> None:
    """WhiteNoise serves /static: in production the fingerprinted, compressed build
    (``bin/build_static``) with a ten-year cache; files it does not know (uploads) fall
    through to Flask."""
    from core.assets import is_fingerprinted, load_manifest

    built = Path(app.root_path) / "staticfiles"
    manifest = load_manifest(built) if app.config["ENV_NAME"] == "production" else {}
    root = built if manifest else Path(app.static_folder or "static")
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app, root=str(root), prefix="static/", autorefresh=app.debug,
        immutable_file_test=is_fingerprinted,
    )
    if manifest:
        @app.url_defaults
        def fingerprinted_static(endpoint: str, values: dict[str, Any]) -> None:
            if endpoint == "static" and values.get("filename") in manifest:
                values["filename"] = manifest[values["filename"]]


def register_blueprints(app: Flask) -> None:
    from blueprints.admin import bp as admin_bp
    from blueprints.checkout import bp as checkout_bp
    from blueprints.links import admin_bp as links_admin_bp
    from blueprints.links import bp as links_bp
    from blueprints.media import bp as media_bp
    from blueprints.payments import bp as payments_bp
    from blueprints.shop import bp as shop_bp

    app.register_blueprint(shop_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(links_admin_bp)
    app.register_blueprint(media_bp)
    csrf.exempt(payments_bp)  # gateways cannot send our CSRF token; callbacks are verified instead
    app.register_blueprint(payments_bp)
    if app.config["SIMULATOR_ENABLED"]:
        import simulator

        simulator.install(app)

    @app.get("/healthz")
    @limiter.exempt
    def healthz():
        """Liveness and database check for the platform's router: 503 when the database is down."""
        try:
            db.session.execute(db.text("SELECT 1"))
        except SQLAlchemyError:
            db.session.rollback()
            app.logger.warning("healthz: the database does not answer", exc_info=True)
            return jsonify(status="database unavailable"), 503
        return jsonify(status="ok")

    @app.get("/readyz")
    @limiter.exempt
    def readyz():
        """Readiness: the database, and with a job queue its Redis and depth; 503 naming the part
        that failed. Cheap (one SELECT 1, three Redis counts), unauthenticated, not rate limited."""
        from redis.exceptions import RedisError

        from core import jobs

        checks: dict[str, Any] = {}
        failed = []
        try:
            db.session.execute(db.text("SELECT 1"))
            checks["database"] = "ok"
        except SQLAlchemyError:
            db.session.rollback()
            checks["database"] = "unavailable"
            failed.append("database")
        if jobs.redis_url(app.config):
            try:
                depth = jobs.depth()
                checks["redis"] = "ok"
                checks["queue"] = {"queued": depth.queued, "scheduled": depth.scheduled,
                                   "failed": depth.failed} if depth else None
            except RedisError:
                checks["redis"] = "unavailable"
                failed.append("redis")
        else:
            checks["redis"] = "not configured (jobs run in the web process)"
        if failed:
            app.logger.warning("readyz: %s unavailable", ", ".join(failed))
            return jsonify(status=f"{' and '.join(failed)} unavailable", **checks), 503
        return jsonify(status="ok", **checks)


def _wants_json() -> bool:
    return request.path.startswith(("/payments/", "/_sim/ligdicash/pay/v01", "/healthz", "/readyz"))


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str, shown: bool = True):
        if _wants_json():
            return jsonify(error=message), code
        # werkzeug's stock descriptions are English only: the page then says its own, translated
        try:
            return render_template("errors/error.html", code=code, message=message if shown else None), code
        except DBAPIError as error:  # the page's frame (categories, the shop's name) needs the database
            if not database_unreachable(error):
                raise
            return unavailable(error)

    def unavailable(error: DBAPIError):
        """The friendly 503 while the database is away: rendered from nothing it holds."""
        db.session.rollback()
        g.database_down = True
        # Flask-Login's context processor would load the signed-in merchant from the database
        g._login_user = login_manager.anonymous_user()
        app.logger.warning("database unavailable on %s %s: %s", request.method,
                           request.url_rule.rule if request.url_rule else "(no route)",
                           type(error.orig).__name__ if error.orig is not None else type(error).__name__)
        headers = {"Retry-After": "10"}
        if _wants_json():
            return jsonify(error="database unavailable; retry later"), 503, headers
        return render_template("errors/unavailable.html"), 503, headers

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, gettext("This form has expired or was not sent by this shop. Go back, reload the page and try again."))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        # The page's forms would read the body again and raise again (a blank 500): it stays unread.
        request.form = ImmutableMultiDict()
        request.files = ImmutableMultiDict()
        if request.path == "/admin/products/import":
            from shop.catalog_csv import MAX_BYTES

            return render_error(413, gettext("What you sent is too large: a catalogue file may be at most %(size)s KB.",
                                             size=MAX_BYTES // 1024))
        if request.path.startswith("/admin/"):  # the dashboard is in English; say the limit that matters
            limit_kb = app.config["PRODUCT_IMAGE_MAX_BYTES"] // 1024
            return render_error(413, f"What you sent is too large: a product image may be at most {limit_kb} KB.")
        return render_error(413, "", shown=False)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if isinstance(error, SecurityError):  # Host not in ALLOWED_HOSTS: no URL can be built
            return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
        stock = error.description == type(error).description
        return render_error(error.code or 500, error.description or error.name, shown=not stock)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        """The database away (a restart, a failover, a network blip): a friendly 503 that asks
        to try again, not a 500; the pool's pre-ping reconnects once it is back. Callbacks get
        a 503 too, which every gateway retries."""
        if not database_unreachable(error):
            return server_error(error)
        return unavailable(error)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, gettext("Something went wrong on our side. Nothing was charged twice; please try again."))


def database_unreachable(error: DBAPIError) -> bool:
    """An error that says the database cannot be reached (not a bad query): the connection
    refused, dropped or invalidated."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    return bool(error.connection_invalidated) or isinstance(error, (OperationalError, InterfaceError))


def register_hooks(app: Flask) -> None:
    from core import requestlog

    requestlog.install(app)

    @app.context_processor
    def shop_context():
        from config import MARKETS
        from core.money import format_money
        from providers import REGISTRY
        from shop import cart as cart_service
        from shop.catalog import categories, identity

        if g.get("database_down"):  # the friendly 503 page: nothing that needs the database
            return {"database_down": True}
        shop = identity()
        context = {"shop_name": shop.name, "shop": shop, "money": format_money,
                   "demo_shop": demo_shop(app)}
        if not has_request_context():
            return context  # e-mails rendered by reconciliation: no session, no cart
        return {
            **context,
            "markets": MARKETS,
            "current_currency": cart_service.current_currency(),
            "cart_count": sum(cart_service.raw_items().values()),
            "categories": categories,
            "gateway_providers": lambda: REGISTRY,
            "payments_ready": payments_ready,
        }

    from mail.outbox import deliver_after_response
    from media.images import prepare_after_response
    from notifications.sms import deliver_after_response as send_texts_after_response

    app.after_request(deliver_after_response)
    app.after_request(send_texts_after_response)
    app.after_request(prepare_after_response)

    @app.template_filter("gateway_name")
    def gateway_name(name: str) -> str:
        from providers import REGISTRY

        if name == "cash":  # cash on delivery / at pickup (delivery.options.CASH): no gateway
            from flask_babel import gettext

            return gettext("Cash on delivery")
        return REGISTRY[name].display_name if name in REGISTRY else name

    @app.template_filter("attention_text")
    def attention_text(payment) -> str:
        from payments.attention import describe

        return describe(payment)

    @app.template_filter("gateway_returns")
    def gateway_returns(name: str) -> bool:
        from providers import REGISTRY

        return name in REGISTRY and REGISTRY[name].returns_browser

    @app.before_request
    def redirect_to_https():
        """Production speaks HTTPS; the router's health probe may stay on plain HTTP."""
        if app.config.get("FORCE_HTTPS") and not request.is_secure and request.path != "/healthz":
            return redirect(request.url.replace("http://", "https://", 1), 301)
        return None

    @app.before_request
    def refuse_nul_bytes():
        """No legitimate address, form or query carries NUL, and PostgreSQL text cannot hold it."""
        if "\x00" in request.path:
            app.logger.info("refused a NUL byte in the path of %s %r", request.method, request.path[:200])
            abort(404)
        if request.path.startswith("/payments/"):
            return None  # callbacks read their raw bodies and answer for themselves
        values = [*request.args.values()]
        if request.method == "POST" and request.mimetype != "multipart/form-data":
            values += [*request.form.values()]
        if any("\x00" in value for value in values):
            abort(400, gettext("The request contains characters that are not allowed."))
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app.config))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def content_security_policy(config) -> str:
    """No script, no plugin, no framing; images from the shop itself, and from the photo
    bucket's or CDN's origin when pages link the photos there (IMAGE_PUBLIC_BASE_URL)."""
    img_src = "'self' data:"
    public = urlsplit(config.get("IMAGE_PUBLIC_BASE_URL") or "")
    if public.scheme and public.netloc:
        img_src += f" {public.scheme}://{public.netloc}"
    return (f"default-src 'self'; img-src {img_src}; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self' http: https:")


def demo_shop(app: Flask) -> bool:
    """A production app with the simulator on: a demo deploy, said on every page."""
    return app.config["ENV_NAME"] == "production" and bool(app.config["SIMULATOR_ENABLED"])


def payments_ready() -> bool:
    """At least one gateway (real or simulated) can take a payment."""
    from payments.gateways import enabled_gateways

    return bool(enabled_gateways())


def register_commands(app: Flask) -> None:
    from commands import commands

    for command in commands:
        app.cli.add_command(command)


def register_shellcontext(app: Flask) -> None:
    import models

    app.shell_context_processor(lambda: {"db": db, "models": models})


def configure_logging(app: Flask) -> None:
    from core import redaction, requestlog
    from payments.gateways import credentials_in_use

    redaction.install(app.config, credentials_in_use(app.config))
    if not app.debug and not app.testing:
        requestlog.configure(logging.INFO, app.config["LOG_FORMAT"])
    if (app.config.get("SMS_PROVIDER") == "africastalking" and not app.config.get("SIMULATED_SMS")
            and not (app.config.get("AFRICASTALKING_USERNAME") and app.config.get("AFRICASTALKING_API_KEY"))):
        log.warning("SMS_PROVIDER=africastalking but AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY are "
                    "not both set: no texts are sent")
    if demo_shop(app):
        log.warning("demo shop: SIMULATOR_ENABLED=1 in production, /_sim/ is mounted and payments "
                    "are simulated: nothing is charged")
    elif app.config["ENV_NAME"] == "production" and not any_gateway(app):
        log.warning("no payment gateway is configured: the catalogue is open, checkout cannot take "
                    "payments (set a gateway's credentials, see the README's Gateways section)")


def any_gateway(app: Flask) -> bool:
    """Whether any gateway is switched on, outside a request."""
    from payments.gateways import gateway_settings
    from providers import REGISTRY

    return any(gateway_settings(app.config, name) for name in REGISTRY)
