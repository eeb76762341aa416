"""Configuration and deployment (issue 2, J1–J4)."""
from __future__ import annotations

import gzip
import logging
import os
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from app import create_app
from config import ConfigError, database_url
from extensions import db

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_heroku_postgres_url_is_rewritten():
    """J1."""
    assert database_url("postgres://u:p@h:5432/db", "") == "postgresql+psycopg://u:p@h:5432/db"
    assert database_url("postgresql://u@h/db", "") == "postgresql+psycopg://u@h/db"
    assert database_url(None, "sqlite:///x.db") == "sqlite:///x.db"


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    """J3."""
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/x")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": ""})


def test_production_refuses_sqlite(monkeypatch):
    """J2: Heroku's disk is ephemeral."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 32,
                    "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"})


def test_half_configured_gateway_names_the_missing_variable(monkeypatch):
    monkeypatch.setenv("LIGDICASH_API_KEY", "key-only")
    with pytest.raises(ConfigError, match="LIGDICASH_API_TOKEN"):
        create_app("testing")


def test_production_without_credentials_offers_no_simulated_gateway(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/x")
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 32, "SIMULATOR_ENABLED": False})
    assert not any(rule.rule.startswith("/_sim") for rule in app.url_map.iter_rules())
    from payments.gateways import enabled_gateways
    with app.app_context():
        assert enabled_gateways("XOF") == []


def test_configured_gateway_uses_its_own_credentials(app):
    from payments.gateways import gateway_settings
    config = {**app.config, "LIGDICASH_API_KEY": "k", "LIGDICASH_API_TOKEN": "t"}
    settings = gateway_settings(config, "ligdicash")
    assert settings["api_key"] == "k" and settings["base_url"] == "https://app.ligdicash.com/pay/v01/"
    assert not settings["simulated"]


def test_gunicorn_config_reads_port_and_concurrency(monkeypatch):
    """J4."""
    monkeypatch.setenv("PORT", "5123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == "0.0.0.0:5123" and settings["workers"] == 3
    assert settings["timeout"] > 10  # above the gateway timeout, below Heroku's 30 s


def test_procfile_runs_the_factory_and_migrates_on_release():
    procfile = (ROOT / "Procfile").read_text()
    assert 'web: gunicorn "app:create_app()"' in procfile
    assert "release: flask --app app db upgrade" in procfile


def test_migrations_match_the_models(app):
    """The committed migrations build exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from extensions import db
    with app.app_context(), db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(email)); Postgres checks them.
        warnings.filterwarnings("ignore", ".*expression-based index")
        # The trigram search index exists only where pg_trgm could be created (migration 0006):
        # deliberately not in the models.
        optional = {"ix_product_search_text_trgm"}
        context = MigrationContext.configure(connection, opts={
            "include_object": lambda obj, name, *_: name not in optional})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "0 products added" in first.output  # the fixture seeded it
    assert "nothing to do" in runner.invoke(args=["seed-demo", "--if-empty"]).output


# --- issue 14: production unless told otherwise, any port, a deploy that says what it is ---

STRONG = "k" * 48


def run_python(code: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in the repository with only ``env`` (plus PATH)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}, timeout=timeout)


@pytest.fixture
def production(monkeypatch, app):
    """Build production apps on the suite's database; every one is disposed of afterwards."""
    built = []
    monkeypatch.setenv("COMPTOIR_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])

    def make(**overrides):
        settings = {"SECRET_KEY": STRONG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "SIMULATOR_ENABLED": False, "SESSION_COOKIE_SECURE": False, "FORCE_HTTPS": False,
                    "TRUSTED_HOSTS": None, "PUBLIC_BASE_URL": "", **overrides}
        built.append(create_app(settings))
        return built[-1]

    yield make
    for one in built:
        with one.app_context():
            db.engine.dispose()


def test_unset_environment_means_production_and_refuses_without_secret_key():
    """Heroku never sets COMPTOIR_ENV: the app is production, and says what is missing in one line."""
    result = run_python("from app import create_app; create_app()",
                        {"DATABASE_URL": "postgres://u@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [(
        "comptoir: configuration error: SECRET_KEY must be set in production "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')")]


@pytest.mark.parametrize("key", ["short-key", "dev-only-not-secret", "change-me", "a" * 31])
def test_production_refuses_a_weak_secret_key(monkeypatch, key):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/x")
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": key})


@pytest.mark.parametrize("settings, reason", [
    ({"IMAGE_STORAGE": "disk"}, "IMAGE_STORAGE must be 'database' or 's3', got 'disk'"),
    ({"IMAGE_STORAGE": "s3", "S3_BUCKET": ""}, "S3_BUCKET must be set when IMAGE_STORAGE=s3"),
    ({"IMAGE_STORAGE": "s3", "S3_BUCKET": "photos", "S3_ENDPOINT_URL": "r2.example.com"},
     "S3_ENDPOINT_URL must be an http(s) URL"),
    ({"IMAGE_PUBLIC_BASE_URL": "https://cdn.example.com"}, "IMAGE_PUBLIC_BASE_URL is only used with IMAGE_STORAGE=s3"),
    ({"IMAGE_STORAGE": "s3", "S3_BUCKET": "photos", "IMAGE_PUBLIC_BASE_URL": "cdn.example.com"},
     "IMAGE_PUBLIC_BASE_URL must be an http(s) URL"),
])
def test_photo_storage_settings_are_checked_at_start(settings, reason):
    with pytest.raises(ConfigError, match=re.escape(reason)):
        create_app(settings)


def test_production_wants_the_photos_public_url_in_https(production):
    with pytest.raises(ConfigError, match=re.escape("IMAGE_PUBLIC_BASE_URL must be an https:// URL in production")):
        production(IMAGE_STORAGE="s3", S3_BUCKET="photos", IMAGE_PUBLIC_BASE_URL="http://cdn.example.com")


def test_production_on_a_bucket_links_its_public_url_and_the_csp_allows_it(production):
    from shop import catalog

    prod = production(IMAGE_STORAGE="s3", S3_BUCKET="photos", IMAGE_PUBLIC_BASE_URL="https://cdn.example.com/shop")
    catalog.clear_cache()  # pages are cached per process, and the suite's app linked /media/
    home = browser_of(prod).get("/")
    assert "img-src 'self' data: https://cdn.example.com;" in home.headers["Content-Security-Policy"]
    assert re.search(r'srcset="https://cdn\.example\.com/shop/\w{32}-320\.webp 320w', home.get_data(as_text=True))
    catalog.clear_cache()


def test_s3_without_a_bucket_stops_the_start_in_one_line_without_secrets():
    result = run_python("from app import create_app; create_app()",
                        {"DATABASE_URL": "postgres://u@127.0.0.1:1/x", "SECRET_KEY": STRONG,
                         "IMAGE_STORAGE": "s3", "AWS_SECRET_ACCESS_KEY": "never-printed-secret-value"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "comptoir: configuration error: S3_BUCKET must be set when IMAGE_STORAGE=s3 (the bucket that keeps the photos)"]
    assert "never-printed" not in result.stdout + result.stderr


def test_flask_command_without_database_url_says_so_in_one_line():
    """The release line (flask db upgrade) fails fast, naming DATABASE_URL, no traceback."""
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app", "db", "upgrade"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ.get("PATH", ""), "SECRET_KEY": STRONG})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "comptoir: configuration error: DATABASE_URL must be set in production")


def test_production_mounts_no_simulator_by_default(production):
    prod = production()
    assert prod.config["ENV_NAME"] == "production"
    assert prod.test_client().get("/_sim/").status_code == 404


def test_production_without_gateway_shows_catalogue_and_says_payments_are_not_set_up(production, caplog):
    with caplog.at_level(logging.WARNING, logger="comptoir"):
        prod = production()
    assert "no payment gateway is configured" in caplog.text
    client = browser_of(prod)
    home = client.get("/")
    assert home.status_code == 200 and b"Pagne wax" in home.data and b"Demo shop" not in home.data
    added = fill_cart(client, prod)
    assert added.status_code == 303, added.get_data(as_text=True)[-1500:]
    page = client.get("/checkout")
    assert page.status_code == 200
    assert b'id="payments-not-set-up"' in page.data and b'id="pay"' not in page.data
    assert "No payment gateway is configured" in signed_in_dashboard(prod)


def test_demo_deploy_shows_a_banner_everywhere_and_logs_it(production, caplog):
    with caplog.at_level(logging.WARNING, logger="comptoir"):
        prod = production(SIMULATOR_ENABLED=True, PUBLIC_BASE_URL="https://demo.example.com")
    assert "demo shop: SIMULATOR_ENABLED=1 in production" in caplog.text
    client = prod.test_client()
    banner = "Demo shop — payments are simulated, nothing is charged"
    assert client.get("/_sim/").status_code == 200
    assert "Boutique de démonstration — les paiements sont simulés" in client.get("/").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for path in ("/", "/products/pagne-wax-6-yards", "/cart", "/orders", "/admin/login"):
        assert banner in client.get(path).get_data(as_text=True), path
    assert banner in signed_in_dashboard(prod)


def test_demo_deploy_needs_a_public_base_url(production):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        production(SIMULATOR_ENABLED=True)


def test_development_public_base_url_follows_the_served_port():
    code = "import config; print(config.Config.PUBLIC_BASE_URL)"
    assert run_python(code, {"PORT": "5310"}).stdout.strip() == "http://127.0.0.1:5310"
    assert run_python(code, {"PORT": "5311", "HOST": "0.0.0.0"}).stdout.strip() == "http://127.0.0.1:5311"
    assert run_python(code, {"HOST": "192.0.2.7"}).stdout.strip() == "http://192.0.2.7:5000"


def test_development_warns_when_public_base_url_disagrees_with_the_port():
    code = "from app import create_app; create_app()"
    env = {"COMPTOIR_ENV": "development", "PORT": "5310", "DATABASE_URL": "sqlite://"}
    quiet = run_python(code, env)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
    warned = run_python(code, {**env, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    assert "PUBLIC_BASE_URL is http://127.0.0.1:5000 but the shop is served on port 5310" in warned.stderr


def test_https_redirect_and_host_allow_list(production):
    prod = production(FORCE_HTTPS=True, TRUSTED_HOSTS=["shop.example.com"])
    client = prod.test_client()
    plain = client.get("/cart?x=1", base_url="http://shop.example.com")
    assert plain.status_code == 301 and plain.headers["Location"] == "https://shop.example.com/cart?x=1"
    assert client.get("/", base_url="https://shop.example.com").status_code == 200
    forwarded = client.get("/", base_url="http://shop.example.com", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.status_code == 200  # the router's word, through ProxyFix
    assert client.get("/", base_url="https://evil.example.net").status_code == 400
    assert client.get("/healthz", base_url="http://shop.example.com").status_code == 200


def test_allowed_hosts_defaults_to_public_base_url(monkeypatch):
    from config import host_list
    assert host_list(None, "https://shop.example.com/") == ["shop.example.com"]
    assert host_list("a.example.com, .b.example.com", "https://x.example.com") == ["a.example.com", ".b.example.com"]
    assert host_list(None, "") == []


def test_redis_url_is_the_rate_limit_store(monkeypatch):
    from config import rate_limit_storage, rate_limit_storage_options
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert rate_limit_storage() == "memory://"
    monkeypatch.setenv("REDIS_URL", "rediss://:p@redis.example.com:6380")
    assert rate_limit_storage() == "rediss://:p@redis.example.com:6380"
    assert rate_limit_storage_options(rate_limit_storage()) == {"ssl_cert_reqs": None}
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/3")
    assert rate_limit_storage() == "redis://127.0.0.1:6379/3"


def test_static_files_never_carry_the_session_cookie(app):
    client = app.test_client()
    added = fill_cart(client, app)
    assert added.status_code == 303 and "Set-Cookie" in added.headers  # the cart lives in the session
    assert "Set-Cookie" in client.get("/cart").headers  # a permanent session is refreshed
    stylesheet = client.get("/static/css/shop.css")
    stylesheet.close()  # WhiteNoise streams the file
    assert stylesheet.status_code == 200 and "Set-Cookie" not in stylesheet.headers
    upload = ROOT / "static" / "uploads" / "deploy-test-late-file.txt"  # unknown to WhiteNoise: Flask serves it
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("late")
    try:
        late = client.get("/static/uploads/deploy-test-late-file.txt")
        assert late.status_code == 200 and "Set-Cookie" not in late.headers
        late.close()
    finally:
        upload.unlink()


def test_html_is_compressed(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"Comptoir" in gzip.decompress(page.data)
    assert "Content-Encoding" not in client.get("/").headers


def test_static_build_fingerprints_compresses_and_caches_for_years(tmp_path):
    from core.assets import build, is_fingerprinted, load_manifest
    (tmp_path / "src" / "css").mkdir(parents=True)
    (tmp_path / "src" / "css" / "a.css").write_text("body { color: red; }\n" * 50)
    (tmp_path / "src" / "uploads").mkdir()
    (tmp_path / "src" / "uploads" / "u.png").write_bytes(b"x")
    manifest = build(tmp_path / "src", tmp_path / "out")
    name = manifest["css/a.css"]
    assert re.fullmatch(r"css/a\.[0-9a-f]{12}\.css", name) and "uploads/u.png" not in manifest
    assert (tmp_path / "out" / (name + ".gz")).is_file() and (tmp_path / "out" / "css" / "a.css").is_file()
    assert load_manifest(tmp_path / "out") == manifest and load_manifest(tmp_path) == {}
    assert is_fingerprinted("", "/static/" + name) and not is_fingerprinted("", "/static/css/a.css")


def _pins(filename: str) -> dict[str, str]:
    pinned = {}
    for line in (ROOT / filename).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned in {filename}: {line}"
            pinned[name.lower().replace("_", "-")] = version
    return pinned


def test_requirements_are_compiled_and_fully_pinned():
    """requirements.txt is pip-compile's output of requirements.in: every package pinned; the
    development pins (what `make test` and CI install) hold every runtime pin, at the same version."""
    pinned = _pins("requirements.txt")
    dev = _pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in pinned} == pinned, "run `make requirements`"
    for line in (ROOT / "requirements.in").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name = re.split(r"[\[<>=~ ]", line.strip())[0].lower()
            assert name in pinned, f"{name} is in requirements.in but not compiled into requirements.txt"
    assert {"werkzeug", "jinja2", "limits", "whitenoise", "flask-compress"} <= set(pinned)
    assert (ROOT / ".python-version").read_text().strip() == "3.11"


def test_repository_reads_nothing_outside_itself():
    """Docs, code and tests name no path outside the repository (team notes live elsewhere)."""
    offenders = []
    for path in ROOT.rglob("*"):
        if (path.suffix in {".py", ".md", ".html", ".cfg", ".toml", ".ini", ".txt"} or path.name == "Makefile") \
                and not any(part in {".venv", ".git", "staticfiles", "node_modules"} for part in path.parts):
            text = path.read_text(errors="ignore")
            if re.search(r"shared/(DESIGN|RELIABILITY|STYLE|providers|seeds)|/(work|srv)/(shared|main)\b", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def browser_of(prod):
    """A test client on ``prod`` over HTTPS, sending the Referer that Flask-WTF's strict check wants."""
    client = prod.test_client()
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def fill_cart(client, flask_app):
    """Put one pagne in the cart of ``client`` through the shop's form."""
    from sqlalchemy import select

    from models import Product
    with flask_app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "pagne-wax-6-yards"))
    token = CSRF.search(client.get("/products/pagne-wax-6-yards").get_data(as_text=True)).group(1)
    return client.post("/cart/add", data={"csrf_token": token, "product_id": product_id, "quantity": "1"})


def signed_in_dashboard(prod) -> str:
    """The dashboard overview of ``prod``, signed in as a fresh merchant."""
    from merchant.accounts import save_admin
    with prod.app_context():
        save_admin("owner@example.com", "a long enough password")
        db.session.commit()
    client = browser_of(prod)
    token = CSRF.search(client.get("/admin/login").get_data(as_text=True)).group(1)
    signed = client.post("/admin/login", data={"csrf_token": token, "email": "owner@example.com",
                                               "password": "a long enough password"})
    assert signed.status_code == 303, signed.status_code
    return client.get("/admin/").get_data(as_text=True)


def test_create_database_makes_the_postgresql_database_make_run_is_given(app, runner):
    """Issue 32: ``make run`` with a DATABASE_URL naming a database that does not exist yet
    creates it (``flask create-database``) instead of failing with a traceback."""
    from sqlalchemy import create_engine, make_url, text

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("needs a PostgreSQL server (set TEST_DATABASE_URL)")
    name = f"comptoir_created_{os.getpid()}"
    server = create_engine(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(database="postgres"),
                           isolation_level="AUTOCOMMIT")
    saved = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_DATABASE_URI"] = str(make_url(saved).set(database=name).render_as_string(
        hide_password=False))
    try:
        first = runner.invoke(args=["create-database"])
        assert first.exit_code == 0 and f"Created the PostgreSQL database {name}" in first.output
        again = runner.invoke(args=["create-database"])
        assert again.exit_code == 0 and again.output == ""
        with server.connect() as connection:
            assert connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) == 1
    finally:
        app.config["SQLALCHEMY_DATABASE_URI"] = saved
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()
