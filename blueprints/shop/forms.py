"""Forms of the catalogue and cart. Prices are never a form field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange

from config import MARKETS


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Quantity", default=1, validators=[InputRequired(), NumberRange(1, 999)])
    submit = SubmitField("Add to cart")


class UpdateCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(0, 999)])
    submit = SubmitField("Update")


class RemoveFromCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Remove")


class MarketForm(FlaskForm):
    currency = SelectField("Market", choices=[SelectChoice(code, f"{label} — {code}") for code, label in MARKETS.items()])
    submit = SubmitField("Change")


def product_id_of(form) -> int | None:
    """The form's product id as an int, or None when it is not a number."""
    raw = form.product_id.data or ""
    return int(raw) if raw.isdigit() and len(raw) < 10 else None
