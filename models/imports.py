"""A catalogue file the merchant uploaded and previewed, kept on the server until they confirm
it (shop.catalog_csv): the confirm re-reads these bytes, never anything the browser sends back."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class CatalogueImport(db.Model):
    __tablename__ = "catalogue_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The preview's random name in the confirm URL.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    #: The file as uploaded (at most shop.catalog_csv.MAX_BYTES).
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: JSON {variant id: stock} as the preview showed them: the confirm moves stock by the
    #: difference from these, so units customers reserved meanwhile stay reserved.
    stock_seen: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
