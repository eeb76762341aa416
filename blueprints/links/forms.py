"""The customer's form on a link's page (translated) and the merchant's link form (English,
as the whole dashboard is)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from blueprints.checkout.forms import CustomerForm
from config import MARKETS
from core import phones
from links import payment_links as link_service


class PayLinkForm(CustomerForm):
    """What the customer adds on the link's page: who they are and how they pay."""


# the dashboard

class ProductRow(Form):
    product_id = SelectField("Product", default="")
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(1, link_service.MAX_QUANTITY)])


class FreeRow(Form):
    text = StringField("Description", validators=[Optional(), Length(max=200)])
    amount = StringField("Amount", validators=[Optional(), Length(max=20)])
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(1, link_service.MAX_QUANTITY)])


PRODUCT_ROWS = 5
FREE_ROWS = 3


class LinkForm(FlaskForm):
    currency = SelectField("Market", choices=[SelectChoice(c, f"{c} — {n}") for c, n in MARKETS.items()],
                           validators=[DataRequired()])
    products = FieldList(FormField(ProductRow), min_entries=PRODUCT_ROWS, max_entries=PRODUCT_ROWS)
    free = FieldList(FormField(FreeRow), min_entries=FREE_ROWS, max_entries=FREE_ROWS)
    delivery_method = SelectField("Delivery", default="", validators=[Optional()])
    customer_name = StringField("Customer's name (optional)", validators=[Optional(), Length(max=120)])
    customer_phone = TelField("Customer's phone (optional, for WhatsApp)", validators=[Optional(), Length(max=32)])
    language = SelectField("Customer's language", choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")],
                           default="fr")
    note = TextAreaField("Note shown to the customer (optional)", validators=[Optional(), Length(max=500)])
    expiry_days = IntegerField("Expires after (days)", default=link_service.DEFAULT_EXPIRY_DAYS,
                               validators=[DataRequired(), NumberRange(1, link_service.MAX_EXPIRY_DAYS)])
    submit = SubmitField("Create the link")

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        #: variant id → its product's id (the select's "v<id>" values)
        self.variant_products = {v.id: p.id for p in products for v in p.variants}
        choices = [SelectChoice("", "— none —")]
        for p in products:  # a product without options by its id; each variant of one with options
            if p.has_options:
                choices += [SelectChoice(f"v{v.id}", f"{p.name} — {v.label}") for v in p.variants]
            else:
                choices.append(SelectChoice(str(p.id), p.name))
        for row in self.products:
            row.product_id.choices = choices
        self.delivery_method.choices = [SelectChoice("", "— no delivery —")]
        self.phone_e164 = ""

    def set_delivery_choices(self, currency: str) -> None:
        """The delivery hook's methods (links.payment_links.delivery_choices), if any."""
        self.delivery_method.choices = [SelectChoice("", "— no delivery —"),
                                        *[SelectChoice(v, label) for v, label in link_service.delivery_choices(currency)]]

    def validate_customer_phone(self, field) -> None:
        if field.data and field.data.strip():
            try:
                self.phone_e164 = phones.normalise(field.data, self.currency.data or "USD")
            except phones.PhoneError as exc:
                raise ValidationError(str(exc)) from None

    def link_request(self) -> link_service.LinkRequest:
        """The validated form as a LinkRequest (amounts parsed exactly; LinkError on a bad one)."""
        currency = self.currency.data
        products = [_product_line(row.product_id.data or "", row.quantity.data or 1, self.variant_products)
                    for row in self.products if _chosen(row.product_id.data or "")]
        free = []
        for row in self.free:
            description, amount = (row.text.data or "").strip(), (row.amount.data or "").strip()
            if not description and not amount:
                continue
            if not description:
                raise link_service.LinkError("Each free line needs a description.", "free")
            free.append(link_service.FreeLine(description, link_service.parse_amount(amount, currency),
                                              row.quantity.data or 1))
        return link_service.LinkRequest(
            currency=currency, products=products, free=free,
            customer_name=(self.customer_name.data or "").strip(), customer_phone=self.phone_e164,
            language=self.language.data if self.language.data in link_service.LANGUAGES else "fr",
            note=(self.note.data or "").strip(), expiry_days=self.expiry_days.data,
            delivery_method=self.delivery_method.data or "",
        )


def _chosen(value: str) -> bool:
    return value.isdigit() or (value[:1] == "v" and value[1:].isdigit())


def _product_line(value: str, quantity: int, variant_products: dict[int, int]) -> link_service.ProductLine:
    """A product row's choice: "12" (product 12, no options) or "v34" (variant 34 of its product)."""
    if value.startswith("v"):
        variant_id = int(value[1:])
        return link_service.ProductLine(variant_products.get(variant_id, 0), quantity, variant_id)
    return link_service.ProductLine(int(value), quantity)
