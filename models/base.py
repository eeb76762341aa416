"""What every table shares: UTC timestamps, and how a CHECK constraint lists its values."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def sql_list(values: tuple[str, ...]) -> str:
    """``('a', 'b')`` → ``"'a', 'b'"``: the allowed values of a CHECK constraint."""
    return ", ".join(f"'{v}'" for v in values)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (the callable default for timestamps)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values read from it are naive; this makes both
    databases hand back the same aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
