"""Product pictures: checked, oriented, stripped of metadata and resized with Pillow into
WebP and JPEG variants, stored behind a small storage interface.

Each picture becomes ``<digest>-<width>.webp`` and ``<digest>-<width>.jpg`` for every
width in ``WIDTHS`` smaller than the photo (and the photo's own width when it is smaller
than the largest). The digest is a hash of the variants, so a URL never changes content
and can be cached for a year. Storage is the database (``ImageBlob``) by default, or an
S3-compatible bucket (``media/s3.py``, IMAGE_STORAGE=s3); see docs/images.md.
"""
from __future__ import annotations

import hashlib
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, g
from PIL import Image, ImageOps
from sqlalchemy import func, select, update

from core import jobs
from extensions import db
from media.storage import DatabaseStorage, ImageStorage
from models import ImageUpload, ImageView, Product, ProductImage
from models.base import utcnow

log = logging.getLogger(__name__)

WIDTHS = (320, 640, 1280)
FORMATS = {"webp": "image/webp", "jpg": "image/jpeg"}
ACCEPTED = {"PNG", "JPEG", "WEBP"}
#: A photo with more pixels than this is refused before it is decoded (a 48 MP phone photo fits).
MAX_PIXELS = 50_000_000
WEBP_QUALITY = 72
JPEG_QUALITY = 78
#: Pictures per product, at most (photos still being prepared count).
MAX_IMAGES = 8
#: A photo's resizing is tried this many times (by its job, then the periodic pass), then dropped.
PREPARE_ATTEMPTS = 3
#: The periodic pass leaves uploads younger than this to the job that was queued for them.
PREPARE_GRACE = timedelta(minutes=2)


class ImageError(ValueError):
    """The upload is not a picture we can use; the message says why, for the merchant."""


@dataclass
class Processed:
    digest: str
    width: int
    height: int
    widths: list[int]
    #: ``key → (content type, bytes)`` for every variant.
    variants: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def variant_key(digest: str, width: int, fmt: str) -> str:
    """The storage key (and URL name) of one variant: ``<digest>-<width>.<fmt>``."""
    return f"{digest}-{width}.{fmt}"


def target_widths(width: int) -> list[int]:
    """The variant widths for a photo ``width`` pixels wide: never enlarged."""
    return sorted({w for w in WIDTHS if w < width} | {min(width, WIDTHS[-1])})


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED:
                raise ImageError("The image must be a PNG, JPEG or WebP file.")
            if image.width * image.height > MAX_PIXELS:
                raise ImageError("The image has too many pixels (at most 50 megapixels).")
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
                Image.DecompressionBombError) as exc:
            if isinstance(exc, ImageError):
                raise
            raise ImageError("The image must be a PNG, JPEG or WebP file.") from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, then drop metadata and transparency (on white)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    clean = image.convert("RGB")
    clean.info = {}  # no EXIF, XMP or ICC profile is carried over
    return clean


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "webp":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"")
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, exif=b"")
    return out.getvalue()


def process(data: bytes) -> Processed:
    """Turn an uploaded file into resized WebP and JPEG variants; raises ImageError."""
    image = _flatten(_open(data))
    widths = target_widths(image.width)
    encoded: dict[tuple[int, str], bytes] = {}
    for width in widths:
        height = max(1, round(image.height * width / image.width))
        resized = image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS)
        for fmt in FORMATS:
            encoded[(width, fmt)] = _encode(resized, fmt)
    digest = hashlib.sha256(b"".join(encoded[k] for k in sorted(encoded))).hexdigest()[:32]
    largest = widths[-1]
    return Processed(
        digest=digest, width=largest, height=max(1, round(image.height * largest / image.width)),
        widths=widths,
        variants={variant_key(digest, w, f): (FORMATS[f], b) for (w, f), b in encoded.items()},
    )


# --- storage ------------------------------------------------------------------------------

def _s3_storage() -> ImageStorage:
    """The S3-compatible bucket; its module (and boto3) is imported only when it is chosen."""
    from media.s3 import S3Storage

    return S3Storage()


#: Backends by the IMAGE_STORAGE setting (docs/images.md).
BACKENDS: dict[str, Callable[[], ImageStorage]] = {"database": DatabaseStorage, "s3": _s3_storage}


def storage() -> ImageStorage:
    """The configured storage backend."""
    return BACKENDS[current_app.config.get("IMAGE_STORAGE", "database")]()


def store(data: bytes) -> ImageView:
    """Process an uploaded picture and keep its variants in the photo storage (a category's
    photo, the shop's logo); raises ImageError. The caller records the view it returns."""
    processed = process(data)
    storage().put(processed.variants)
    return ImageView(processed.digest, processed.width, processed.height, ",".join(map(str, processed.widths)))


# --- a product's pictures ------------------------------------------------------------------

def add_image(product: Product, data: bytes, main: bool = False) -> ProductImage | ImageUpload:
    """Attach the uploaded ``data`` to ``product`` (main when asked, or when it is the first).
    The caller commits.

    Without a job queue the photo is resized here and the ``ProductImage`` returned. With one,
    the file is only checked here (a bad file is refused on the form, as ever) and kept as an
    ``ImageUpload``: once the request has committed, ``prepare_after_response`` queues
    ``prepare`` for a worker, and the photo appears when it is done (a few seconds)."""
    if len(product.images) + len(product.uploads) >= MAX_IMAGES:
        raise ImageError(f"A product has at most {MAX_IMAGES} pictures: delete one first.")
    if not jobs.redis_url(current_app.config):
        return attach(product, process(data), main)
    _open(data)
    upload = ImageUpload(data=data, is_main=main or not (product.images or product.uploads))
    product.uploads.append(upload)
    g.setdefault("image_uploads", []).append(upload)
    return upload


def prepare(upload_id: int) -> int:
    """Job: resize one uploaded photo into its product's pictures; 1 when it did, 0 when there
    was nothing (left) to do. Safe to run twice: the upload row is locked while it is resized
    and deleted in the transaction that attaches the picture, so a second run finds nothing."""
    upload = db.session.scalars(
        select(ImageUpload).where(ImageUpload.id == upload_id).with_for_update()).first()
    if upload is None:  # done already, or its product was deleted
        db.session.rollback()
        return 0
    product = upload.product
    try:
        processed = process(upload.data)
        if len(product.images) >= MAX_IMAGES:
            raise ImageError(f"{product.slug} has {MAX_IMAGES} pictures already")
        attach(product, processed, upload.is_main or not product.images)
    except ImageError as exc:  # checked at upload, so only a photo that can never be used
        log.warning("photo upload %s of %s dropped: %s", upload_id, product.slug, exc)
        db.session.delete(upload)
        db.session.commit()
        return 0
    except Exception:  # the storage away, memory…: counted, then retried by RQ or the periodic pass
        db.session.rollback()
        db.session.execute(update(ImageUpload).where(ImageUpload.id == upload_id)
                           .values(attempts=ImageUpload.attempts + 1))
        db.session.commit()
        raise
    db.session.delete(upload)
    db.session.commit()
    return 1


def prepare_due(now=None) -> int:
    """The periodic pass (core.jobs.OUTBOXES): photos whose job was lost (Redis away, a worker
    killed) and older than PREPARE_GRACE; an upload that failed PREPARE_ATTEMPTS times is
    dropped with a warning. Returns how many photos were prepared."""
    now = now or utcnow()
    given_up = db.session.scalars(
        select(ImageUpload).where(ImageUpload.attempts >= PREPARE_ATTEMPTS)).all()
    for upload in given_up:
        log.warning("photo upload %s of product %s dropped after %s attempts",
                    upload.id, upload.product_id, upload.attempts)
        db.session.delete(upload)
    db.session.commit()
    due = list(db.session.scalars(
        select(ImageUpload.id).where(ImageUpload.created_at <= now - PREPARE_GRACE).order_by(ImageUpload.id)))
    prepared = 0
    for upload_id in due:
        try:
            prepared += prepare(upload_id)
        except Exception:  # one photo never stops the pass; its attempts were counted
            log.exception("photo upload %s not prepared", upload_id)
    return prepared


def prepare_after_response(response):
    """After a request that kept uploads: one ``prepare`` job each; with Redis away, resize
    them here once the response has gone out (``add_image`` only keeps uploads with a queue)."""
    ids = jobs.committed_ids(g.pop("image_uploads", []))
    left = [i for i in ids if not jobs.enqueue("media.images.prepare", i, job_id=f"photo-{i}",
                                               description=f"resize photo upload {i}")]
    if not left:
        return response

    def resize() -> None:
        for upload_id in left:
            prepare(upload_id)

    return jobs.after_response(response, resize, "resizing photos")


def attach(product: Product, processed: Processed, main: bool = False) -> ProductImage:
    """Store already processed variants and attach them to ``product``. The caller commits."""
    storage().put(processed.variants)
    position = max((i.position for i in product.images), default=-1) + 1
    image = ProductImage(digest=processed.digest, width=processed.width, height=processed.height,
                         widths=",".join(map(str, processed.widths)), position=position,
                         is_main=main or not product.images)
    if image.is_main:
        for other in product.images:
            other.is_main = False
    product.images.append(image)
    return image


def set_main(product: Product, image_id: int) -> None:
    """Make one of ``product``'s pictures the main one."""
    if not any(i.id == image_id for i in product.images):
        raise ImageError("Choose one of this product's pictures.")
    for image in product.images:
        image.is_main = image.id == image_id


def remove_images(product: Product, image_ids: set[int]) -> None:
    """Delete some of ``product``'s pictures (and their variants no other picture uses)."""
    doomed = [i for i in product.images if i.id in image_ids]
    for image in doomed:
        product.images.remove(image)
    db.session.flush()
    for image in doomed:
        _forget_unused(image)
    if product.images and not any(i.is_main for i in product.images):
        product.images[0].is_main = True


def _forget_unused(image: ProductImage) -> None:
    still_used = db.session.scalar(
        select(func.count()).select_from(ProductImage).where(ProductImage.digest == image.digest))
    if not still_used:
        storage().delete([variant_key(image.digest, w, f) for w in image.width_list for f in FORMATS])


def fetch(key: str) -> tuple[str, bytes] | None:
    """A stored variant's content type and bytes, or None."""
    return storage().get(key)


# --- URLs and markup helpers (used by templates/_images.html) -------------------------------

def url(image: ProductImage, width: int, fmt: str) -> str:
    """The URL of one variant: the storage's own, else this shop's /media/<key>."""
    from flask import url_for

    key = variant_key(image.digest, width, fmt)
    return storage().url(key) or url_for("media.image", key=key)


def absolute_url(image: ProductImage) -> str:
    """The largest JPEG as an absolute URL (on ``PUBLIC_BASE_URL`` when the storage gives a
    path): what a link preview (Open Graph, WhatsApp, Facebook) fetches."""
    found = url(image, image.width_list[-1], "jpg")
    if found.startswith("/"):
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + found
    return found


def srcset(image: ProductImage, fmt: str) -> str:
    """``"/media/…-320.webp 320w, /media/…-640.webp 640w, …"``."""
    return ", ".join(f"{url(image, w, fmt)} {w}w" for w in image.width_list)


def fallback_url(image: ProductImage) -> str:
    """The JPEG for browsers without srcset: the middle width (640 where there is one)."""
    widths = image.width_list
    return url(image, widths[min(1, len(widths) - 1)], "jpg")
