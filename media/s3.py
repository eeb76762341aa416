"""Product photo variants in an S3-compatible bucket (``IMAGE_STORAGE=s3``): AWS S3,
Cloudflare R2, Scaleway, MinIO. See docs/images.md, "Where the variants live".

This module, and boto3 with it, is imported only when the s3 backend is chosen, so a shop
on the default database storage does not load boto3 at all.

- ``put``: one ``PutObject`` per variant, with its ``Content-Type`` and a year-long
  ``immutable`` ``Cache-Control`` (keys name their content). It runs inside the database
  transaction that saves the product: when that transaction is rolled back, the objects
  stay in the bucket, unreferenced and harmless (the same photo uploaded again reuses them).
- ``delete``: only noted on the database session; the objects are removed with
  ``DeleteObjects`` (at most 1000 keys a call) after the transaction **commits**, never
  before, so a rolled-back delete cannot leave pages pointing at removed objects.
- ``get``: ``GetObject``, None when the key is missing (``/media/`` then answers 404).
- ``url``: ``IMAGE_PUBLIC_BASE_URL/<key>`` when set (pages link there), else None
  (``/media/<key>`` reads the object through the shop: a private bucket works).

A bucket that does not answer, or refuses (endpoint down, access denied, no such bucket),
raises ``storage.StorageUnavailable`` with a short message naming the operation and the
error code, never a credential. Credentials come from boto3's own chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role): the shop
never reads or stores them.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from media.storage import StorageUnavailable

log = logging.getLogger("comptoir.images")

#: Keys name their content: browsers and CDNs may keep an object for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"
#: DeleteObjects takes at most 1000 keys a call.
DELETE_BATCH = 1000
#: Seconds to open a connection to the bucket, and to wait for its answer; attempts per call
#: (the first and one retry). A dashboard upload fails in seconds, not at the router's 30 s.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5
MAX_ATTEMPTS = 2
#: ``session.info`` key: objects to delete once the session's transaction commits,
#: ``{(endpoint, region, bucket): {key, …}}``.
PENDING = "s3_image_deletes"

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


def client(endpoint_url: str = "", region: str = "") -> Any:
    """The process's boto3 S3 client for these settings, made on first use (boto3 clients
    are thread-safe; sessions are not, so each client gets its own, under a lock)."""
    key = (endpoint_url, region)
    found = _clients.get(key)
    if found is not None:
        return found
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            import boto3
            from botocore.config import Config

            found = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url or None, region_name=region or None,
                config=Config(
                    connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                    # R2, Scaleway and MinIO all answer path-style requests on their endpoint;
                    # AWS (no endpoint given) gets its usual virtual-hosted style.
                    s3={"addressing_style": "path" if endpoint_url else "auto"},
                ),
            )
            _clients[key] = found
    return found


def forget_clients() -> None:
    """Drop the cached clients (tests)."""
    with _clients_lock:
        _clients.clear()


class S3Storage:
    """Variants as objects of ``S3_BUCKET``; see the module's docstring."""

    def __init__(self, config: Any = None) -> None:
        config = config if config is not None else current_app.config
        self.bucket: str = config["S3_BUCKET"]
        self.endpoint_url: str = config.get("S3_ENDPOINT_URL") or ""
        self.region: str = config.get("S3_REGION") or ""
        self.public_base_url: str = (config.get("IMAGE_PUBLIC_BASE_URL") or "").rstrip("/")

    @property
    def target(self) -> tuple[str, str, str]:
        return (self.endpoint_url, self.region, self.bucket)

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(client(self.endpoint_url, self.region), operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code") or "error"
            if operation == "get_object" and code in ("NoSuchKey", "404"):
                raise
            raise _unavailable(operation, code) from None
        except BotoCoreError as exc:
            raise _unavailable(operation, type(exc).__name__) from None

    def put(self, variants: dict[str, tuple[str, bytes]]) -> None:
        """``PutObject`` each variant (again if it is there already: same key, same bytes)."""
        _keep(self.target, variants)  # a delete noted earlier in this transaction no longer holds
        for key, (content_type, data) in variants.items():
            self._call("put_object", Key=key, Body=data, ContentType=content_type,
                       CacheControl=CACHE_CONTROL)

    def get(self, key: str) -> tuple[str, bytes] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._call("get_object", Key=key)
        except ClientError:
            return None  # NoSuchKey: the others became StorageUnavailable
        try:
            data = response["Body"].read()
        except BotoCoreError as exc:  # the connection broke while the bytes came
            raise _unavailable("get_object", type(exc).__name__) from None
        return response.get("ContentType") or "application/octet-stream", data

    def delete(self, keys: list[str]) -> None:
        """Note ``keys`` for deletion when the current transaction commits (see module)."""
        from extensions import db

        pending = db.session.info.setdefault(PENDING, {})
        pending.setdefault(self.target, set()).update(keys)

    def delete_now(self, keys: list[str]) -> None:
        """``DeleteObjects`` in batches of at most 1000 keys."""
        keys = sorted(set(keys))
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            response = self._call("delete_objects",
                                  Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                codes = sorted({e.get("Code", "error") for e in errors})
                raise _unavailable("delete_objects", ",".join(codes), count=len(errors))

    def url(self, key: str) -> str | None:
        return f"{self.public_base_url}/{key}" if self.public_base_url else None


def _unavailable(operation: str, code: str, count: int = 0) -> StorageUnavailable:
    what = f" ({count} objects)" if count else ""
    return StorageUnavailable(f"the photo bucket did not answer {operation}{what}: {code}")


def _keep(target: tuple[str, str, str], keys) -> None:
    from extensions import db

    pending = db.session.info.get(PENDING, {})
    if target in pending:
        pending[target].difference_update(keys)


# --- deletes wait for the commit ----------------------------------------------------------

@event.listens_for(Session, "after_commit")
def _delete_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the real transaction may still be rolled back
    pending: dict[tuple[str, str, str], set[str]] = session.info.pop(PENDING, {})
    for (endpoint_url, region, bucket), keys in pending.items():
        if not keys:
            continue
        try:
            S3Storage({"S3_ENDPOINT_URL": endpoint_url, "S3_REGION": region, "S3_BUCKET": bucket}
                      ).delete_now(sorted(keys))
        except Exception as exc:  # the commit is done: a failed clean-up must not turn it into a 500
            # The rows are gone; the objects stay, unreferenced: harmless but for their bytes.
            reason = exc if isinstance(exc, StorageUnavailable) else type(exc).__name__
            log.warning("photo variants not deleted from the bucket, left as orphans (%d keys): %s",
                        len(keys), reason)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)  # rolled back (a commit took its keys already)
