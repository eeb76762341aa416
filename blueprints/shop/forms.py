"""Forms of the catalogue and cart. Prices are never a form field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange

from config import MARKETS
from core.i18n import LANGUAGES

#: The markets as customers read them (config.MARKETS holds the codes and their order).
MARKET_NAMES = {
    "XOF": _l("Burkina Faso / UEMOA"),
    "XAF": _l("Cameroon / CEMAC"),
    "RWF": _l("Rwanda"),
    "NGN": _l("Nigeria"),
    "USD": _l("International (USD)"),
}


def market_name(code: str) -> str:
    """A market's name in the current language."""
    return str(MARKET_NAMES.get(code, MARKETS.get(code, code)))


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    #: The combination picked (radio buttons on the product page); none for a product without options.
    variant_id = HiddenField()
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(1, 999)])
    submit = SubmitField(_l("Add to cart"))


class UpdateCartForm(FlaskForm):
    #: The cart line: its variant, or (a product without options) the product.
    product_id = HiddenField()
    variant_id = HiddenField()
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(0, 999)])
    submit = SubmitField(_l("Update"))


class RemoveFromCartForm(FlaskForm):
    product_id = HiddenField()
    variant_id = HiddenField()
    submit = SubmitField(_l("Remove"))


class MarketForm(FlaskForm):
    currency = SelectField(_l("Market"), choices=[SelectChoice(code, code) for code in MARKETS])
    submit = SubmitField(_l("Change"))


class LanguageForm(FlaskForm):
    """The header's language switcher: one button per language, no JavaScript."""

    language = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])


def _id(raw: str | None) -> int | None:
    raw = raw or ""
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def product_id_of(form) -> int | None:
    """The form's product id as an int, or None when it is not a number."""
    return _id(form.product_id.data)


def variant_id_of(form) -> int | None:
    """The form's variant id as an int, or None when there is none (or not a number)."""
    return _id(form.variant_id.data)
