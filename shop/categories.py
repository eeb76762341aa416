"""The merchant's categories: create, rename (French and English), order, hide, give a photo."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from extensions import db
from media import images
from models import Category, Product
from shop.products import slugify


class CategoryError(Exception):
    """What is wrong with a category as typed; ``field`` names the form field."""

    def __init__(self, message: str, field: str = "name"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CategoryData:
    name: str
    name_en: str = ""
    slug: str = ""
    position: int = 0
    active: bool = True
    photo: bytes | None = None  # a new photo (PNG, JPEG or WebP), or None to keep the current one
    remove_photo: bool = False


def all_categories() -> list[tuple[Category, int]]:
    """Every category in display order, hidden ones too, with how many products it holds."""
    counts = dict(db.session.execute(
        select(Product.category_id, func.count()).where(Product.category_id.is_not(None))
        .group_by(Product.category_id)).all())
    rows = db.session.scalars(select(Category).order_by(Category.position, Category.name, Category.id))
    return [(category, counts.get(category.id, 0)) for category in rows]


def save_category(category: Category | None, data: CategoryData) -> Category:
    """Create (``category`` None) or change a category; CategoryError says what to fix."""
    name, name_en = data.name.strip(), data.name_en.strip()
    if not (name or name_en):
        raise CategoryError("Give the category a name, in French or in English.")
    slug = slugify(data.slug.strip() or name or name_en)[:80]
    if not slug:
        raise CategoryError("Give the category a name made of letters or digits.", "slug")
    clash = db.session.scalar(select(Category.id).where(Category.slug == slug))
    if clash is not None and (category is None or clash != category.id):
        raise CategoryError("Another category already has this address (slug).", "slug")
    photo = None
    if data.photo:
        try:
            photo = images.store(data.photo)
        except images.ImageError as exc:
            raise CategoryError(str(exc), "photo") from None
    category = category or Category()
    if photo is not None:
        category.image_digest, category.image_width = photo.digest, photo.width
        category.image_height, category.image_widths = photo.height, photo.widths
    elif data.remove_photo:
        category.image_digest, category.image_width, category.image_height, category.image_widths = "", 0, 0, ""
    category.name, category.name_en, category.slug = name, name_en, slug
    category.position, category.active = data.position, data.active
    db.session.add(category)
    db.session.commit()  # the catalogue's version moves with it: every process re-reads the list
    return category
