"""The application factory: a table of contents of the app."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, abort, has_request_context, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import config as config_module
from extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Build the app. ``config`` is a config name, or a dict of overrides on top of
    the class chosen by ``COMPTOIR_ENV`` (development by default)."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    register_shellcontext(app)
    configure_logging(app)
    return app


def load_config(app: Flask, config: dict[str, Any] | str | None) -> None:
    """Load the config class, then overrides; fail fast on unusable settings."""
    from dotenv import load_dotenv

    if not isinstance(config, str):
        load_dotenv(os.path.join(app.root_path, ".env"))
    name = config if isinstance(config, str) else os.environ.get("COMPTOIR_ENV", "development")
    if name not in config_module.CONFIGS:
        raise config_module.ConfigError(f"COMPTOIR_ENV must be one of {sorted(config_module.CONFIGS)}")
    app.config.from_object(config_module.CONFIGS[name])
    if isinstance(config, dict):
        app.config.update(config)
    config_module.validate(app.config)
    from services.gateways import check_configuration

    check_configuration(app.config)
    os.makedirs(app.instance_path, exist_ok=True)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    from services.i18n import select_locale

    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Sign in to use the dashboard."
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from blueprints.admin import bp as admin_bp
    from blueprints.checkout import bp as checkout_bp
    from blueprints.media import bp as media_bp
    from blueprints.payments import bp as payments_bp
    from blueprints.shop import bp as shop_bp

    app.register_blueprint(shop_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(media_bp)
    csrf.exempt(payments_bp)  # gateways cannot send our CSRF token; callbacks are verified instead
    app.register_blueprint(payments_bp)
    if app.config["SIMULATOR_ENABLED"]:
        from simulator import bp as simulator_bp

        csrf.exempt(simulator_bp)  # stands in for the gateways' own sites
        app.register_blueprint(simulator_bp)

    @app.get("/healthz")
    def healthz():
        """Liveness and database check for the platform's router."""
        db.session.execute(db.text("SELECT 1"))
        return jsonify(status="ok")


def _wants_json() -> bool:
    return request.path.startswith(("/payments/", "/_sim/ligdicash/pay/v01", "/healthz"))


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str, shown: bool = True):
        if _wants_json():
            return jsonify(error=message), code
        # werkzeug's stock descriptions are English only: the page then says its own, translated
        return render_template("errors/error.html", code=code, message=message if shown else None), code

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, gettext("This form has expired or was not sent by this shop. Go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        stock = error.description == type(error).description
        return render_error(error.code or 500, error.description or error.name, shown=not stock)

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, gettext("Something went wrong on our side. Nothing was charged twice; please try again."))


def register_hooks(app: Flask) -> None:
    @app.context_processor
    def shop_context():
        from config import MARKETS
        from providers import REGISTRY
        from services import cart as cart_service
        from services.catalog import categories
        from services.money import format_money

        context = {"shop_name": app.config["SHOP_NAME"], "money": format_money}
        if not has_request_context():
            return context  # e-mails rendered by reconciliation: no session, no cart
        return {
            **context,
            "markets": MARKETS,
            "current_currency": cart_service.current_currency(),
            "cart_count": sum(cart_service.raw_items().values()),
            "categories": categories,
            "gateway_providers": lambda: REGISTRY,
        }

    from services.mail import deliver_after_response

    app.after_request(deliver_after_response)

    @app.template_filter("gateway_name")
    def gateway_name(name: str) -> str:
        from providers import REGISTRY

        return REGISTRY[name].display_name if name in REGISTRY else name

    @app.template_filter("gateway_returns")
    def gateway_returns(name: str) -> bool:
        from providers import REGISTRY

        return name in REGISTRY and REGISTRY[name].returns_browser

    @app.before_request
    def refuse_nul_bytes():
        """No legitimate form or query carries NUL, and PostgreSQL text cannot hold it."""
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
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self' http: https:",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def register_commands(app: Flask) -> None:
    from services.commands import commands

    for command in commands:
        app.cli.add_command(command)


def register_shellcontext(app: Flask) -> None:
    import models

    app.shell_context_processor(lambda: {"db": db, "models": models})


def configure_logging(app: Flask) -> None:
    from services import redaction

    redaction.install(app.config)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
