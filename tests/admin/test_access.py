"""Who gets into the dashboard: login, rate limit, sessions, the create-admin command."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from app import create_app
from extensions import db
from merchant.accounts import save_admin
from models import AdminUser
from tests.admin.conftest import EMAIL, PASSWORD, text_of


def _admin_rules():
    rules = [r for r in create_app("testing").url_map.iter_rules() if r.endpoint.startswith(("admin.", "admin_links."))]
    return [r for r in rules if r.endpoint != "admin.login"]


def _sample_url(rule) -> str:
    values = {arg: 1 if isinstance(rule._converters[arg], IntegerConverter) else "CMD-X"
              for arg in rule.arguments}
    return rule.build(values)[1]


ADMIN_RULES = _admin_rules()


def test_the_walk_sees_every_admin_page():
    """Guard for the test below: if the map changes shape, the walk must notice."""
    endpoints = {r.endpoint for r in ADMIN_RULES}
    assert {"admin.overview", "admin.orders", "admin.orders_csv", "admin.order", "admin.cancel",
            "admin.needs_attention", "admin.products", "admin.edit_product"} <= endpoints


@pytest.mark.parametrize("rule", ADMIN_RULES, ids=lambda r: f"{r.endpoint}")
def test_every_admin_route_refuses_anonymous_users(browser, rule):
    """Every admin endpoint, GET and POST alike, sends an anonymous visitor to the login page
    (POSTs carry a valid CSRF token, so that it is the login check that refuses them)."""
    url = _sample_url(rule)
    token = browser.csrf()
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        data = {"csrf_token": token} if method == "POST" else None
        response = browser.http.request(method, browser.base_url + url, data=data, allow_redirects=False)
        assert response.status_code in (302, 303), (method, url, response.status_code)
        assert response.headers["Location"].startswith("/admin/login?next="), response.headers["Location"]


def test_every_action_is_a_post():
    """Nothing changes on a GET: every action endpoint accepts POST only."""
    for rule in ADMIN_RULES:
        if rule.methods & {"POST"} and not rule.endpoint.endswith(
                ("new_product", "edit_product", "admin_links.new", "new_zone", "edit_zone", "new_point",
                 "edit_point", "new_category", "edit_category", "shop_settings", "product_variants",
                 "import_products", "new_promo", "edit_promo")):
            assert "GET" not in rule.methods, rule.endpoint


def test_login_then_the_page_asked_for(browser):
    response = browser.login(next="/admin/orders?status=paid")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/orders?status=paid"
    assert browser.get("/admin/orders?status=paid").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/admin", "/\\evil.example",
                                    "javascript:alert(1)", "admin", "http:/evil.example"])
def test_next_never_leaves_the_site(browser, target):
    response = browser.login(next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_wrong_email_and_wrong_password_get_the_same_answer(browser):
    wrong_password = browser.login(EMAIL, "not the password")
    wrong_email = browser.login("nobody@example.com", PASSWORD)
    assert wrong_password.status_code == wrong_email.status_code == 401
    assert "Wrong e-mail or password." in text_of(wrong_password)
    assert text_of(wrong_password).replace(EMAIL, "X") == text_of(wrong_email).replace("nobody@example.com", "X")
    assert browser.get("/admin/").status_code == 302


def test_disabled_account_cannot_sign_in(browser, merchant):
    merchant.active = False
    db.session.commit()
    assert browser.login().status_code == 401


def test_login_starts_a_fresh_session(browser, app):
    """No session fixation: whatever the session held before signing in is gone."""
    serializer = app.session_interface.get_signing_serializer(app)
    token = browser.csrf()
    cookie = next(c for c in browser.http.cookies if c.name == "session")
    cookie.value = serializer.dumps({**serializer.loads(cookie.value), "planted": "by someone else"})
    response = browser.post("/admin/login", {"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    session = serializer.loads(browser.http.cookies["session"])
    assert "planted" not in session and "_user_id" in session


def test_login_form_needs_csrf(browser):
    response = browser.http.post(browser.base_url + "/admin/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert browser.get("/admin/").status_code == 302


def test_logout_is_a_post_with_csrf(admin):
    assert admin.get("/admin/logout").status_code == 405
    assert admin.http.post(admin.base_url + "/admin/logout").status_code == 400  # no CSRF token
    assert admin.get("/admin/").status_code == 200
    assert admin.post("/admin/logout").status_code == 303
    assert admin.get("/admin/").status_code == 302


def test_action_without_csrf_is_refused(admin, ctx):
    from tests.admin.conftest import make_orders

    order = make_orders(1)[0]
    response = admin.http.post(f"{admin.base_url}/admin/orders/{order.reference}/cancel")
    assert response.status_code == 400
    db.session.expire_all()
    assert order.status == "pending"


def test_changing_the_password_ends_other_sessions(admin):
    assert admin.get("/admin/").status_code == 200
    save_admin(EMAIL, "a brand new password")
    assert admin.get("/admin/").status_code == 302


def test_login_is_rate_limited_after_failures(browser, app):
    """After the allowed failures (5 a minute), even the right password gets 429."""
    assert app.config["ADMIN_LOGIN_RATE_LIMIT"].startswith("5 per minute")
    for _ in range(5):
        assert browser.login(EMAIL, "wrong password").status_code == 401
    blocked = browser.login()
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in text_of(blocked)


def test_successful_logins_do_not_use_up_the_limit(browser):
    for _ in range(7):
        assert browser.login().status_code == 303


def test_create_admin_with_password_option(runner, ctx):
    result = runner.invoke(args=["create-admin", "Owner@Example.com", "--password", "long enough pass"])
    assert result.exit_code == 0, result.output
    assert "Created owner@example.com" in result.output
    admin = db.session.scalar(select(AdminUser).where(AdminUser.email == "owner@example.com"))
    assert admin.password_hash.startswith("scrypt:") and "long enough pass" not in admin.password_hash


def test_make_admin_never_prints_the_password(tmp_path):
    """Issue 32: ``make admin EMAIL=… PASSWORD=…`` passes the password in the environment, and
    neither make nor the command echo it (make's dry run shows what would be printed)."""
    import subprocess

    from tests.helpers import ROOT

    shown = subprocess.run(["make", "-n", "-s", "admin", "EMAIL=o@example.com", "PASSWORD=sekret-pass-123"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    assert "create-admin" in shown
    echoed = [line for line in shown.splitlines() if line.startswith("echo ")]
    assert echoed and not any("sekret" in line for line in echoed)
    assert "--password" not in shown


def test_create_admin_takes_the_password_from_the_environment(runner, browser):
    result = runner.invoke(args=["create-admin", "env@example.com"],
                           env={"COMPTOIR_ADMIN_PASSWORD": "from the environment"})
    assert result.exit_code == 0, result.output
    assert "from the environment" not in result.output
    assert browser.login("env@example.com", "from the environment").status_code == 303


def test_create_admin_prompts_twice_and_can_sign_in(runner, browser):
    result = runner.invoke(args=["create-admin", "boss@example.com"], input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert browser.login("boss@example.com", "prompted password").status_code == 303


def test_create_admin_refuses_mismatch_and_short_passwords(runner, ctx):
    mismatch = runner.invoke(args=["create-admin", "a@example.com"], input="first password\nsecond password\nx\n")
    assert mismatch.exit_code != 0
    short = runner.invoke(args=["create-admin", "a@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    assert db.session.scalar(select(AdminUser).where(AdminUser.email == "a@example.com")) is None


def test_create_admin_on_existing_email_changes_the_password(runner, merchant, browser):
    result = runner.invoke(args=["create-admin", EMAIL, "--password", "replacement password"])
    assert "Password changed for" in result.output
    assert browser.login(EMAIL, PASSWORD).status_code == 401
    assert browser.login(EMAIL, "replacement password").status_code == 303
