"""``/media/<digest>-<width>.<webp|jpg>``: a picture variant, immutable."""
from __future__ import annotations

import re

from flask import Response, abort, request

from services import images

from . import bp

KEY = re.compile(r"^[0-9a-f]{32}-[0-9]{1,4}\.(webp|jpg)$")
#: The key names the content: it never changes, so browsers and CDNs keep it for a year.
CACHE = "public, max-age=31536000, immutable"


# What templates/_images.html needs to write <picture> elements (globals: macros see them).
bp.add_app_template_global(images.srcset, "image_srcset")
bp.add_app_template_global(images.fallback_url, "image_fallback")
bp.add_app_template_global(images.url, "image_url")


@bp.get("/<key>")
def image(key: str):
    """One stored variant; 304 when the browser already has it (the key is its ETag)."""
    if not KEY.match(key):
        abort(404)
    if request.if_none_match.contains(key):
        return Response(status=304, headers={"Cache-Control": CACHE, "ETag": f'"{key}"'})
    found = images.fetch(key) or abort(404)
    content_type, data = found
    return Response(data, content_type=content_type,
                    headers={"Cache-Control": CACHE, "ETag": f'"{key}"'})
