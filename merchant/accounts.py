"""The merchant's dashboard accounts and their signed-in sessions.

A password is a Werkzeug (scrypt) hash; a wrong e-mail costs the same time as a wrong
password. Each signed-in session is a row that signing out revokes.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db
from models import AdminSession, AdminUser, utcnow

log = logging.getLogger(__name__)

PASSWORD_MIN_LENGTH = 10
#: Checked against when the e-mail is unknown, so a wrong e-mail costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone")


class AdminError(ValueError):
    """An action that cannot be done; the message is for the merchant."""


def normalise_email(email: str) -> str:
    """E-mails are compared in lower case, without surrounding spaces."""
    return email.strip().lower()


def save_admin(email: str, password: str) -> tuple[AdminUser, bool]:
    """Create the admin ``email``, or set its password; returns (admin, created)."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AdminError("Give an e-mail address.")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AdminError(f"The password must have at least {PASSWORD_MIN_LENGTH} characters.")
    admin = find_admin(email)
    created = admin is None
    if admin is None:
        admin = AdminUser(email=email, active=True, password_hash="")
        db.session.add(admin)
    admin.password_hash = generate_password_hash(password)
    if not created:
        revoke_sessions(admin)  # a new password ends every session opened with the old one
    db.session.commit()
    return admin, created


def find_admin(email: str) -> AdminUser | None:
    """The admin with this e-mail (any case)."""
    return db.session.scalar(select(AdminUser).where(AdminUser.email == normalise_email(email)))


def authenticate(email: str, password: str) -> AdminUser | None:
    """The active admin whose e-mail and password these are, or None (never saying which was wrong)."""
    admin = find_admin(email)
    if admin is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(admin.password_hash, password) or not admin.active:
        return None
    return admin


def load_admin(session_id: str) -> AdminUser | None:
    """Flask-Login's loader: ``<id>.<hash fragment>``; a changed password ends old sessions."""
    raw_id, _, fragment = session_id.partition(".")
    if not raw_id.isdigit() or len(raw_id) > 12:
        return None
    admin = db.session.get(AdminUser, int(raw_id))
    if admin is None or not admin.active or admin.get_id() != session_id:
        return None
    return admin


# dashboard sessions (server-side, so that signing out really ends them)

#: ``last_seen_at`` is written at most this often, not on every page.
_SEEN_EVERY = timedelta(seconds=60)


def _lifetimes() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (timedelta(minutes=config["ADMIN_SESSION_IDLE_MINUTES"]),
            timedelta(hours=config["ADMIN_SESSION_MAX_HOURS"]))


def open_session(admin: AdminUser) -> str:
    """Record a new dashboard session for ``admin``; returns its random id (for the cookie)."""
    idle, lifetime = _lifetimes()
    now = utcnow()
    db.session.execute(delete(AdminSession).where(or_(
        AdminSession.created_at < now - lifetime, AdminSession.last_seen_at < now - idle)))
    session_id = secrets.token_urlsafe(32)
    db.session.add(AdminSession(id=session_id, admin_id=admin.id, created_at=now, last_seen_at=now))
    db.session.commit()
    return session_id


def session_is_live(session_id: object, admin: AdminUser) -> bool:
    """True while ``session_id`` is ``admin``'s, not revoked, not idle too long, not too old;
    notes that it was used (at most once a minute)."""
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 64:
        return False
    idle, lifetime = _lifetimes()
    now = utcnow()
    row = db.session.get(AdminSession, session_id)
    if (row is None or row.admin_id != admin.id or row.revoked_at is not None
            or row.created_at <= now - lifetime or row.last_seen_at <= now - idle):
        return False
    if now - row.last_seen_at >= _SEEN_EVERY:
        _seen(session_id, now)
    return True


def _seen(session_id: str, now: datetime) -> None:
    db.session.execute(update(AdminSession).where(AdminSession.id == session_id)
                       .values(last_seen_at=now).execution_options(synchronize_session=False))
    db.session.commit()


def revoke_session(session_id: object) -> None:
    """End one dashboard session (signing out): its cookie, even copied, no longer signs anyone in."""
    if isinstance(session_id, str) and session_id:
        db.session.execute(update(AdminSession).where(AdminSession.id == session_id,
                                                      AdminSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()


def revoke_sessions(admin: AdminUser) -> None:
    """End every open session of ``admin`` (caller commits)."""
    db.session.execute(update(AdminSession).where(AdminSession.admin_id == admin.id,
                                                  AdminSession.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
