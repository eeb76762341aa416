"""Checkout and retry forms. The currency is the session's market, never a field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    RadioField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from core import phones


class CustomerForm(FlaskForm):
    """Who the customer is and how they pay: a checkout's fields, and a payment link's."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(2, 120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(message=_l("Invalid email address.")), Length(max=254)])
    phone = TelField(_l("Phone (with country code)"), validators=[DataRequired()])
    gateway = RadioField(_l("Payment method"), validators=[DataRequired(message=_l("Choose a payment method."))])
    submit = SubmitField(_l("Pay now"))

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency  # the market: a number without + is read in its country
        self.phone_e164 = ""

    def validate_phone(self, field) -> None:
        """Valid for the market's country (or with its own +code), kept as E.164."""
        try:
            self.phone_e164 = phones.normalise(field.data or "", self.currency)
        except phones.PhoneError as exc:
            raise ValidationError(str(exc)) from None

    def normalised_phone(self) -> str:
        """The phone number in E.164 (``+22670123456``), once the form is valid."""
        return self.phone_e164


class CheckoutForm(CustomerForm):
    # delivery.options re-checks the choice (market, fee) and the address when it is home delivery.
    delivery = RadioField(_l("Delivery"), validate_choice=False, validators=[Optional()])
    delivery_city = StringField(_l("City or area"), validators=[Optional(), Length(max=80)],
                                description=_l("For home delivery, e.g. Ouaga 2000, Akwa, Kicukiro"))
    delivery_address = StringField(_l("Street or landmark"), validators=[Optional(), Length(max=200)],
                                   description=_l("e.g. behind the pharmacy, blue gate, 2nd street on the left"))
    checkout_key = HiddenField(validators=[DataRequired(), Length(max=64)])


class RetryForm(FlaskForm):
    gateway = RadioField(_l("Payment method"), validators=[DataRequired(message=_l("Choose a payment method."))])
    submit = SubmitField(_l("Try again"))


def delivery_choices(options) -> list[SelectChoice]:
    """Radio choices for the market's delivery options (value carries the fee shown)."""
    return [SelectChoice(o.value, o.name) for o in options]


def cash_choice(options, items_total: int) -> list[SelectChoice]:
    """"Cash on delivery / pay at pickup" when one of the delivery options takes cash for this
    cart (its total with that option's fee within the option's maximum)."""
    if not any(o.cash_for(items_total + o.fee) for o in options):
        return []
    return [SelectChoice("cash", str(_l("Cash on delivery / pay at pickup")))]


def gateway_choices(providers) -> list[SelectChoice]:
    """Radio choices for the enabled gateways."""
    return [SelectChoice(p.name, p.display_name) for p in providers]


class PromoForm(FlaskForm):
    """A promo code, in the cart or at checkout (apply, or remove the one applied)."""

    code = StringField(_l("Promo code"), validators=[Optional(), Length(max=64)])
    apply = SubmitField(_l("Apply"))
    remove = SubmitField(_l("Remove the code"))


class EmptyForm(FlaskForm):
    """A button-only POST that still carries CSRF."""

    submit = SubmitField(_l("Submit"))


class FindOrderForm(FlaskForm):
    """"Find my order": the order number and the phone given at checkout."""

    reference = StringField(_l("Order number"), validators=[DataRequired(), Length(max=40)],
                            description=_l("In your confirmation e-mail or SMS, e.g. CMD-7K2Q9XWA"))
    phone = TelField(_l("Phone used at checkout"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Find my order"))
