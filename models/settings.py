"""What the merchant sets in the dashboard about the shop itself: its name, contact, the checkout's
notes, its about / returns / terms pages and footer links. One row (id 1); an empty field falls
back to the environment's setting (``SHOP_NAME``, ``SHOP_CONTACT``…), then to the standard one."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow
from models.media import ImageView

#: The page fields a customer can read at /about, /returns, /terms.
PAGES = ("about", "returns_policy", "terms")


class ShopSettings(db.Model):
    __tablename__ = "shop_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    contact: Mapped[str] = mapped_column(String(300), default="", server_default="")
    delivery_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    returns_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    about: Mapped[str] = mapped_column(Text, default="", server_default="")
    returns_policy: Mapped[str] = mapped_column(Text, default="", server_default="")
    terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: One link per line: ``Label | https://…`` (shown in the footer).
    footer_links: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The logo's variants in the photo storage (media.images): digest, size, widths; "" for none.
    logo_digest: Mapped[str] = mapped_column(String(32), default="", server_default="")
    logo_width: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    logo_height: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    logo_widths: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: The default low-stock threshold of products that set none; None: ``LOW_STOCK_THRESHOLD``.
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class Identity:
    """The shop as customers see it, every fallback applied."""

    name: str
    contact: str
    delivery_note: str
    returns_note: str
    about: str
    returns_policy: str
    terms: str
    links: tuple[tuple[str, str], ...]
    logo: ImageView | None = None

    def page(self, field: str) -> str:
        return getattr(self, field) if field in PAGES else ""


def parse_links(text: str) -> tuple[tuple[str, str], ...]:
    """``Label | https://…`` lines → (label, url); other lines are left out."""
    found = []
    for line in (text or "").splitlines():
        label, _, url = line.partition("|")
        label, url = label.strip(), url.strip()
        if label and url.startswith(("https://", "http://", "mailto:", "tel:", "/")):
            found.append((label[:60], url[:300]))
    return tuple(found[:10])


def shop_identity(config: Mapping[str, Any], *, read: bool = True) -> Identity:
    """The shop's identity: the dashboard's settings, else ``config``'s (environment) ones
    (``read=False``: the environment's alone, e.g. for an error page while the database is down)."""
    row = db.session.get(ShopSettings, 1) if read else None

    def pick(field: str, key: str = "") -> str:
        value = (getattr(row, field) or "").strip() if row is not None else ""
        return value or (str(config.get(key) or "").strip() if key else "")

    return Identity(pick("name", "SHOP_NAME") or "Comptoir", pick("contact", "SHOP_CONTACT"),
                    pick("delivery_note", "SHOP_DELIVERY_NOTE"), pick("returns_note", "SHOP_RETURNS_NOTE"),
                    pick("about"), pick("returns_policy"), pick("terms"),
                    parse_links(row.footer_links if row is not None else ""),
                    ImageView(row.logo_digest, row.logo_width, row.logo_height, row.logo_widths)
                    if row is not None and row.logo_digest else None)
