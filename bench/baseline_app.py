"""The catalogue's yardstick: a minimal Flask app rendering the shop's own templates
(home, category, product) from constant in-memory data.

No database, no CSRF, no extensions: what is left is Flask, Jinja and the same
HTML. The shop's pages are judged as a ratio to this app, served by gunicorn
with the same ``gunicorn.conf.py`` (``bench/catalogue.py``).
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, render_template, request, url_for
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Form, HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import MARKETS  # noqa: E402  (constants only)
from shop.demo import CATEGORIES, PRODUCTS  # noqa: E402  (the demo catalogue as data)
from blueprints.shop.forms import market_name  # noqa: E402  (a label lookup, no form)
from core.i18n import LANGUAGES  # noqa: E402
from core.money import format_money  # noqa: E402  (Babel formatting, as the shop does)
from media import images  # noqa: E402  (the picture URLs, as the shop writes them; no storage read)
from shop.catalog import ImageView  # noqa: E402  (what the shop's grid caches of a picture)

CURRENCY = "XOF"
# A CSRF field like Flask-WTF's (same length), but constant: no signing here.
CSRF_FIELD = Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="'
                    + "x" * 91 + '">')


@dataclass(frozen=True)
class Cat:
    id: int
    slug: str
    name: str
    position: int

    @property
    def display_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class Price:
    currency: str
    amount: int


@dataclass
class Item:
    id: int
    slug: str
    name: str
    description: str
    stock: int
    category: Cat
    prices: list[Price] = field(default_factory=list)
    #: One constant picture each, as the demo's seeded products have: the picture macro writes
    #: the same <picture> markup as the shop's (the /media/ route below answers nothing).
    image: ImageView | None = None
    images: list = field(default_factory=list)

    @property
    def main_image(self) -> ImageView | None:
        return self.image

    def price_in(self, currency: str) -> Price | None:
        return next((p for p in self.prices if p.currency == currency), None)

    # What the catalogue template reads of a grid card; the shop caches these, the baseline
    # builds them on every render (as the template did before the shop's cache).
    @property
    def url(self) -> str:
        return url_for("shop.product", slug=self.slug)

    @property
    def price_text(self) -> str:
        price = self.price_in(CURRENCY)
        return format_money(price.amount, price.currency) if price else ""
    def selling_price(self, currency: str) -> int | None:
        price = self.price_in(currency)
        return price.amount if price else None

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def display_description(self) -> str:
        return self.description


def _picture(slug: str) -> ImageView:
    """A constant picture, shaped as the demo's seeded ones (1280 x 960, three widths)."""
    return ImageView(hashlib.sha256(slug.encode()).hexdigest()[:32], 1280, 960, "320,640,1280")


CATS = [Cat(i + 1, slug, name, i) for i, (slug, name, _name_en) in enumerate(CATEGORIES)]
BY_SLUG = {c.slug: c for c in CATS}
ITEMS = sorted(
    (Item(i + 1, slug, name, desc, stock, BY_SLUG[cat],
          [Price(c, a) for c, a in prices.items()], _picture(slug))
     for i, (slug, name, cat, stock, desc, prices) in enumerate(PRODUCTS)),
    key=lambda p: p.name,
)
ITEM_BY_SLUG = {p.slug: p for p in ITEMS}


class NoCsrf:
    """What the templates use of Flask-WTF's forms, without the token signing."""

    csrf_token = CSRF_FIELD

    def hidden_tag(self) -> Markup:
        return CSRF_FIELD


class AddToCartForm(NoCsrf, Form):
    """The shop's form (blueprints/shop/forms.py), its labels translated the same way."""

    product_id = HiddenField()
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(1, 999)])
    submit = SubmitField(_l("Add to cart"))


class MarketForm(NoCsrf, Form):
    currency = SelectField("Market", choices=[(c, f"{label} — {c}") for c, label in MARKETS.items()])
    submit = SubmitField("Change")


app = Flask("baseline", template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "baseline")
# The same translations as the shop, in its default language (French).
Babel(app, locale_selector=lambda: "fr", default_translation_directories=str(ROOT / "translations"))
TOKEN = "x" * 91


@dataclass(frozen=True)
class OnePage:
    """What the catalogue template reads of a pagination: one page."""

    items: list
    pages: int = 1
    page: int = 1
    has_prev: bool = False
    has_next: bool = False


@app.context_processor
def context():
    return {"shop_name": "Comptoir", "money": format_money, "markets": MARKETS,
            "current_currency": CURRENCY, "market_form": MarketForm(currency=CURRENCY),
            "cart_count": 0, "categories": lambda: CATS, "gateway_providers": lambda: {},
            "csrf_token": lambda: TOKEN, "languages": LANGUAGES, "current_language": "fr",
            "market_name": market_name}


@app.get("/", endpoint="shop.index")
def index():
    category = None
    if request.args.get("category"):
        category = BY_SLUG.get(request.args["category"]) or abort(404)
    products = [p for p in ITEMS if p.price_in(CURRENCY) and (category is None or p.category is category)]
    return render_template("shop/index.html", products=products, pagination=OnePage(products),
                           category=category, query="", form=AddToCartForm())


@app.get("/products/<slug>", endpoint="shop.product")
def product(slug: str):
    item = ITEM_BY_SLUG.get(slug) or abort(404)
    return render_template("shop/product.html", product=item, form=AddToCartForm(product_id=item.id),
                           price=item.selling_price(CURRENCY))


def _stub(**_):
    return "", 204


for name in ("url", "srcset", "fallback_url"):
    app.add_template_global(getattr(images, name), "image_fallback" if name == "fallback_url" else f"image_{name}")


for rule, endpoint, methods in [("/market", "shop.market", ["POST"]), ("/cart", "shop.cart", ["GET"]),
                                ("/cart/add", "shop.cart_add", ["POST"]),
                                ("/language", "shop.language", ["POST"]),
                                ("/orders", "checkout.my_orders", ["GET"]),
                                ("/media/<key>", "media.image", ["GET"])]:
    app.add_url_rule(rule, endpoint, _stub, methods=methods)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
