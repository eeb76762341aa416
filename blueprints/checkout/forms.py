"""Checkout and retry forms. The currency is the session's market, never a field."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, RadioField, StringField, SubmitField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Regexp

PHONE_PATTERN = r"^\+?[0-9 ]{8,20}$"


class CheckoutForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(2, 120)])
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(
        "Phone (with country code)",
        validators=[DataRequired(), Regexp(PHONE_PATTERN, message="Digits only, with the country code, e.g. +226 70 00 00 00.")],
    )
    gateway = RadioField("Payment method", validators=[DataRequired(message="Choose a payment method.")])
    checkout_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField("Pay now")

    def normalised_phone(self) -> str:
        """The phone number as digits with a leading +."""
        return "+" + "".join(ch for ch in self.phone.data if ch.isdigit())


class RetryForm(FlaskForm):
    gateway = RadioField("Payment method", validators=[DataRequired(message="Choose a payment method.")])
    submit = SubmitField("Try again")


def gateway_choices(providers) -> list[SelectChoice]:
    """Radio choices for the enabled gateways."""
    return [SelectChoice(p.name, p.display_name) for p in providers]


class EmptyForm(FlaskForm):
    """A button-only POST that still carries CSRF."""

    submit = SubmitField("Submit")
