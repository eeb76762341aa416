"""Static files for production: fingerprinted copies, a manifest, and how url_for finds them.

``build()`` (run by ``bin/build_static``, hence by ``bin/post_compile`` on Heroku) copies
``static/`` into ``staticfiles/`` beside a fingerprinted copy of each file
(``css/shop.css`` → ``css/shop.0123456789ab.css``), writes ``manifest.json`` and
pre-compresses everything (gzip and Brotli) for WhiteNoise. Uploaded images
(``static/uploads/``) are written at run time and are not part of the build.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

MANIFEST = "manifest.json"
SKIP = ("uploads/",)
_FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def fingerprinted_name(relative: str, content: bytes) -> str:
    """``css/shop.css`` → ``css/shop.<12 hex of its SHA-256>.css``."""
    path = Path(relative)
    digest = hashlib.sha256(content).hexdigest()[:12]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def is_fingerprinted(path: str, url: str) -> bool:
    """WhiteNoise's ``immutable_file_test``: fingerprinted files are cached for ten years."""
    return bool(_FINGERPRINTED.search(url))


def build(source: Path, target: Path) -> dict[str, str]:
    """Copy ``source`` to ``target`` with fingerprinted twins, write the manifest, compress."""
    from whitenoise.compress import Compressor

    if target.exists():
        shutil.rmtree(target)
    manifest: dict[str, str] = {}
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = file.relative_to(source).as_posix()
        if relative.startswith(SKIP) or file.name.startswith("."):
            continue
        content = file.read_bytes()
        manifest[relative] = fingerprinted_name(relative, content)
        for name in (relative, manifest[relative]):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(content)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    compressor = Compressor(quiet=True)
    for file in [p for p in target.rglob("*") if p.is_file() and p.name != MANIFEST]:
        if compressor.should_compress(file.name):
            compressor.compress(str(file))
    return manifest


def load_manifest(built: Path) -> dict[str, str]:
    """The build's manifest, or an empty dict when there is no build."""
    path = built / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}
