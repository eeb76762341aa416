"""Where photo variants live: the storage interface, its errors, and the database backend.

The S3-compatible backend is ``media.s3``; ``media.images.storage()`` picks one by the
IMAGE_STORAGE setting (docs/images.md).
"""
from __future__ import annotations

from typing import Protocol

from sqlalchemy import delete, insert, select

from extensions import db
from models import ImageBlob, utcnow


class StorageUnavailable(RuntimeError):
    """The storage did not answer as it should (bucket down, access denied): nothing was
    stored or read. The message is short and names no secret."""


class ImageStorage(Protocol):
    """Where variants live. ``url`` is None when the shop serves them itself (/media/…)."""

    def put(self, variants: dict[str, tuple[str, bytes]]) -> None: ...
    def get(self, key: str) -> tuple[str, bytes] | None: ...
    def delete(self, keys: list[str]) -> None: ...
    def url(self, key: str) -> str | None: ...


class DatabaseStorage:
    """Variants as rows of ``image_blob``, in the same transaction as the product."""

    def put(self, variants: dict[str, tuple[str, bytes]]) -> None:
        """Store ``key → (content type, bytes)``; keys already there are kept (same photo twice)."""
        have = set(db.session.scalars(select(ImageBlob.key).where(ImageBlob.key.in_(variants))))
        rows = [{"key": k, "content_type": t, "data": d, "created_at": utcnow()}
                for k, (t, d) in variants.items() if k not in have]
        if rows:
            db.session.execute(insert(ImageBlob), rows)

    def get(self, key: str) -> tuple[str, bytes] | None:
        row = db.session.execute(
            select(ImageBlob.content_type, ImageBlob.data).where(ImageBlob.key == key)).first()
        return (row.content_type, bytes(row.data)) if row else None

    def delete(self, keys: list[str]) -> None:
        db.session.execute(delete(ImageBlob).where(ImageBlob.key.in_(keys)))

    def url(self, key: str) -> str | None:
        return None
