"""Where a ``next`` field may send a browser: a path on this site, never another host."""
from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None.

    Browsers drop tabs, CR and LF anywhere in a URL and read ``\\`` as ``/``, so
    ``/\\t/evil.example`` and ``/\\\\evil.example`` would lead off-site: any control
    character or backslash refuses the target outright.
    """
    target = (target or "").strip(" ")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return None
    return target
