"""Product photos: checked, stripped and resized with Pillow into WebP and JPEG variants
(``images``), kept behind one small storage interface (``storage``: the database backend and its
errors) or in an S3-compatible bucket (``s3``, imported only when ``IMAGE_STORAGE=s3``). It may
import ``models``, ``core``, ``config`` and ``extensions``; nothing above it knows which backend
is in use.
"""
