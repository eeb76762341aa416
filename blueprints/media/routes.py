"""``/media/<digest>-<width>.<webp|jpg>``: a picture variant, immutable."""
from __future__ import annotations

import re

from flask import Response, abort, current_app, request

from media import images
from media.storage import StorageUnavailable

from . import bp

KEY = re.compile(r"^[0-9a-f]{32}-[0-9]{1,4}\.(webp|jpg)$")
#: The key names the content: it never changes, so browsers and CDNs keep it for a year.
CACHE = "public, max-age=31536000, immutable"


# What templates/_images.html needs to write <picture> elements (globals: macros see them).
bp.add_app_template_global(images.srcset, "image_srcset")
bp.add_app_template_global(images.fallback_url, "image_fallback")
bp.add_app_template_global(images.url, "image_url")
bp.add_app_template_global(images.absolute_url, "image_absolute")


@bp.get("/<key>")
def image(key: str):
    """One stored variant; 304 when the browser already has it (the key is its ETag)."""
    if not KEY.match(key):
        abort(404)
    if request.if_none_match.contains(key):
        return Response(status=304, headers={"Cache-Control": CACHE, "ETag": f'"{key}"'})
    try:
        found = images.fetch(key) or abort(404)
    except StorageUnavailable as exc:
        # A bucket that is down or refuses: say so briefly, uncached, and let the browser retry.
        current_app.logger.warning("/media/%s: %s", key, exc)
        return Response("The photo storage is not answering; try again in a moment.\n", status=503,
                        content_type="text/plain; charset=utf-8",
                        headers={"Retry-After": "30", "Cache-Control": "no-store"})
    content_type, data = found
    return Response(data, content_type=content_type,
                    headers={"Cache-Control": CACHE, "ETag": f'"{key}"'})
