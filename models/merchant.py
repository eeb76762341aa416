"""The merchant's dashboard accounts and their signed-in sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class AdminUser(db.Model):
    """A merchant account for the dashboard; the password is a Werkzeug (scrypt) hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Flask-Login's user interface. The session id carries a fragment of the
    # password hash, so changing the password logs out every other session.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session."""
        return f"{self.id}.{self.password_hash[-12:]}"


class AdminSession(db.Model):
    """One signed-in dashboard session. Its random id is kept in the signed session cookie;
    signing out revokes the row, so a copy of the cookie taken before is worth nothing."""

    __table_args__ = (Index("ix_admin_session_admin_id", "admin_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
