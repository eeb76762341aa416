"""Product photos: each picture's variants, and their bytes when the database stores them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.catalog import Product


class ProductImage(db.Model):
    """One picture of a product, stored as resized variants (``ImageBlob`` or S3) named by
    ``digest``: ``<digest>-<width>.webp`` and ``.jpg`` for each width in ``widths``."""

    __table_args__ = (Index("ix_product_image_product_position", "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    #: SHA-256 (hex, 32 first characters) of the variants: the URL changes when the picture does.
    digest: Mapped[str] = mapped_column(String(32))
    #: Size of the largest variant, in pixels (the <img> width/height: no layout shift).
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    #: The variants' widths, ascending, comma-separated ("320,640,1280").
    widths: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def width_list(self) -> list[int]:
        """The variants' widths, ascending."""
        return [int(w) for w in self.widths.split(",") if w]


class ImageUpload(db.Model):
    """A photo the merchant uploaded, checked but not resized yet: with a job queue the resizing
    is a worker's job (``media.images.prepare``), which turns it into a ``ProductImage`` and
    deletes this row. Without one the upload is resized in the request and never stored here."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: Made the main photo once ready (asked for, or the product had none).
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="uploads")


class ImageBlob(db.Model):
    """The bytes of one image variant, addressed by its key (the database storage backend)."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class ImageView:
    """What the picture macro (templates/_images.html) needs of a stored picture, cacheable: a
    product's photo, a category's, the shop's logo."""

    digest: str
    width: int
    height: int
    widths: str

    @property
    def width_list(self) -> list[int]:
        return [int(w) for w in self.widths.split(",") if w]

    @classmethod
    def of(cls, image: ProductImage | None) -> ImageView | None:
        return cls(image.digest, image.width, image.height, image.widths) if image else None
