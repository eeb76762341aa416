"""Dashboard sessions live on the server (issue 15): signing out ends them for every copy
of the cookie, they end when idle or too old, and the sign-in limit is exact under load."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select, update

from extensions import db
from merchant.accounts import save_admin
from models import AdminSession, utcnow
from tests.admin.conftest import CSRF, EMAIL, PASSWORD


def _copy_of_cookies(browser) -> requests.Session:
    """A second browser holding a copy of the first one's cookies (as a thief would)."""
    thief = requests.Session()
    thief.cookies.update(browser.http.cookies)
    return thief


def _age(**values) -> None:
    db.session.execute(update(AdminSession).values(**values))
    db.session.commit()


def test_a_cookie_copied_before_sign_out_stops_working(admin):
    thief = _copy_of_cookies(admin)
    assert thief.get(admin.base_url + "/admin/", allow_redirects=False).status_code == 200
    assert admin.post("/admin/logout").status_code == 303
    response = thief.get(admin.base_url + "/admin/orders", allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    db.session.expire_all()
    assert db.session.scalar(select(AdminSession.revoked_at)) is not None


def test_sign_in_records_a_session_and_the_cookie_names_it(admin, app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.loads(admin.http.cookies["session"])
    row = db.session.get(AdminSession, cookie["admin_session"])
    assert row is not None and row.revoked_at is None and len(row.id) >= 40


def test_an_idle_session_ends(admin, app):
    idle = app.config["ADMIN_SESSION_IDLE_MINUTES"]
    _age(last_seen_at=utcnow() - timedelta(minutes=idle - 1))
    assert admin.get("/admin/").status_code == 200  # still within the idle time, and now seen again
    _age(last_seen_at=utcnow() - timedelta(minutes=idle, seconds=5))
    assert admin.get("/admin/").status_code == 302


def test_use_keeps_a_session_alive(admin):
    _age(last_seen_at=utcnow() - timedelta(minutes=5))
    assert admin.get("/admin/").status_code == 200
    db.session.expire_all()
    assert utcnow() - db.session.scalar(select(AdminSession.last_seen_at)) < timedelta(seconds=30)


def test_a_session_ends_at_its_absolute_lifetime_even_in_use(admin, app):
    hours = app.config["ADMIN_SESSION_MAX_HOURS"]
    _age(created_at=utcnow() - timedelta(hours=hours, seconds=5), last_seen_at=utcnow())
    assert admin.get("/admin/").status_code == 302


def test_a_forged_or_missing_session_id_signs_nobody_in(admin, app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.loads(admin.http.cookies["session"])
    for forged in ({**cookie, "admin_session": "x" * 43}, {k: v for k, v in cookie.items() if k != "admin_session"}):
        thief = requests.Session()
        thief.cookies.set("session", serializer.dumps(forged))
        assert thief.get(admin.base_url + "/admin/", allow_redirects=False).status_code == 302


def test_changing_the_password_revokes_the_sessions(admin):
    save_admin(EMAIL, "another long password")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AdminSession)
                             .where(AdminSession.revoked_at.is_(None))) == 0


def test_thirty_parallel_sign_ins_check_at_most_the_allowed_number_of_passwords(browser, app):
    """The attempt is counted before the password is checked: 30 wrong passwords sent at once
    to the live (threaded) server get exactly 5 answers of 401, the rest 429."""
    assert app.config["ADMIN_LOGIN_RATE_LIMIT"].startswith("5 per minute")
    token = CSRF.search(browser.get("/admin/login").text).group(1)
    cookies = dict(browser.http.cookies)

    def attempt(i: int) -> int:
        data = {"email": EMAIL, "password": f"guess number {i}", "csrf_token": token}
        return requests.post(browser.base_url + "/admin/login", data=data, cookies=cookies,
                             allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(attempt, range(30)))
    assert codes.count(401) == 5 and codes.count(429) == 25, codes
    assert browser.login(EMAIL, PASSWORD).status_code == 429  # even the right one, now
