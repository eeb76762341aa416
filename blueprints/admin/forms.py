"""Dashboard forms. Every action is a POST carrying a CSRF token; filters are a GET form."""
from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from config import MARKETS
from models import FULFILMENT_STATUSES, ORDER_STATUSES  # noqa: E402  (the statuses the database accepts)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField("Sign in")


class EmptyForm(FlaskForm):
    """A button-only POST (logout, cancel, re-check): just the CSRF token."""

    submit = SubmitField("Go")


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[DataRequired(message="Write the note first."), Length(max=280)])
    submit = SubmitField("Add note")


class ReasonForm(FlaskForm):
    """An action with an optional reason kept in the log (refund, acknowledge)."""

    note = StringField("Note (optional)", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Confirm")


class CancelForm(FlaskForm):
    """Cancel an order: why (required once it is paid), and which lines' stock goes back
    (``restock`` checkboxes named in the template; none sent: every line)."""

    reason = StringField("Reason (the customer sees it)", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Cancel order")


REFUND_METHOD_CHOICES = [SelectChoice("mobile_money", "Mobile money"), SelectChoice("cash", "Cash"),
                         SelectChoice("bank_transfer", "Bank transfer"), SelectChoice("gateway", "At the gateway"),
                         SelectChoice("other", "Other")]


class RefundForm(FlaskForm):
    """Record a refund: everything left, an amount, or units of lines (``qty-<line id>`` fields)."""

    full = BooleanField("Refund everything left")
    amount = StringField("Or an amount", validators=[Optional(), Length(max=20)])
    method = SelectField("Paid back by", choices=REFUND_METHOD_CHOICES, validators=[InputRequired()])
    reference = StringField("Transaction reference (e.g. the mobile-money id)", validators=[Optional(), Length(max=120)])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Record refund")


class OrderFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: filters change nothing

    q = StringField("Search", validators=[Optional(), Length(max=120)])
    status = SelectField("Status", choices=[SelectChoice("", "any status"), *[SelectChoice(s, s) for s in ORDER_STATUSES]], default="")
    gateway = SelectField("Gateway", default="")
    currency = SelectField("Currency", choices=[SelectChoice("", "any currency"), *[SelectChoice(c, c) for c in MARKETS]], default="")
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    delivery = SelectField("Delivery", choices=[
        SelectChoice("", "any delivery"), SelectChoice("home", "home delivery"),
        SelectChoice("pickup", "pickup"), SelectChoice("none", "no delivery")], default="")
    zone = SelectField("Zone or point", default="")  # choices: delivery.options.filter_choices
    fulfilment = SelectField("Fulfilment", choices=[SelectChoice("", "any fulfilment"),
                             *[SelectChoice(s, s.replace("_", " ")) for s in FULFILMENT_STATUSES]], default="")
    page = IntegerField(validators=[Optional(), NumberRange(1, 1_000_000)], default=1)

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class ProductForm(FlaskForm):
    name = StringField("Name (French)", validators=[Optional(), Length(max=200)])
    name_en = StringField("Name (English)", validators=[Optional(), Length(max=200)],
                          description="Customers reading the other language see the one you give.")
    slug = StringField("Address (slug)", validators=[Optional(), Length(max=120)],
                       description="Made from the name when left empty.")
    description = TextAreaField("Description (French)", validators=[Optional(), Length(max=5000)])
    description_en = TextAreaField("Description (English)", validators=[Optional(), Length(max=5000)])
    category_id = SelectField("Category", coerce=str, default="")
    images = MultipleFileField("Add photos (PNG, JPEG or WebP, several at once)")
    main_image = RadioField("Main photo", coerce=str, validators=[Optional()], choices=[])
    delete_images = SelectMultipleField("Delete", coerce=str, choices=[], validators=[Optional()],
                                        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    stock = IntegerField("Stock", validators=[InputRequired(), NumberRange(0, 1_000_000)], default=0)
    stock_seen = HiddenField()
    low_stock_threshold = IntegerField(
        "Low stock at", validators=[Optional(), NumberRange(0, 1_000_000)],
        description="At or below this many units of a variant you get one e-mail and the dashboard lists it. "
                    "Empty: the shop's default (Settings).")
    active = BooleanField("On sale", default=True)
    irembopay_product_code = StringField("IremboPay product code", validators=[Optional(), Length(max=64)])
    submit = SubmitField("Save")


def add_price_fields(form_class: type[FlaskForm]) -> type[FlaskForm]:
    """One price field per market, typed in major units (empty: not sold in that market)."""
    for currency in MARKETS:
        setattr(form_class, f"price_{currency}", StringField(
            f"Price in {currency}", validators=[Optional(), Length(max=20)]))
    return form_class


add_price_fields(ProductForm)


def image_choices(form: ProductForm, product) -> None:
    """The product's photos as choices for "main" and "delete"."""
    ids = [SelectChoice(str(i.id), f"Photo {n}") for n, i in enumerate(product.images if product else [], 1)]
    form.main_image.choices = ids
    form.delete_images.choices = ids
    if product is not None and product.main_image is not None and not form.main_image.data:
        form.main_image.data = str(product.main_image.id)


def uploaded_images(form: ProductForm) -> list:
    """The files chosen in the photo field (an empty field sends one nameless part)."""
    return [f for f in (form.images.data or []) if f and f.filename]


def category_choices(form: ProductForm, categories) -> None:
    """Fill the category select from the database."""
    form.category_id.choices = [SelectChoice("", "— none —"), *[
        SelectChoice(str(c.id), (c.name or c.name_en) + ("" if c.active else " (hidden)")) for c in categories]]


def product_data(form: ProductForm):
    """What the merchant typed, for shop.products."""
    from shop.products import ProductData, slugify

    name, name_en = (form.name.data or "").strip(), (form.name_en.data or "").strip()
    return ProductData(
        name=name,
        name_en=name_en,
        slug=slugify(form.slug.data or name or name_en),
        description=(form.description.data or "").strip(),
        description_en=(form.description_en.data or "").strip(),
        category_id=int(form.category_id.data) if (form.category_id.data or "").isdigit() else None,
        stock=form.stock.data,
        active=bool(form.active.data),
        irembopay_product_code=(form.irembopay_product_code.data or "").strip(),
        prices={c: getattr(form, f"price_{c}").data or "" for c in MARKETS},
        low_stock_threshold=form.low_stock_threshold.data,
    )


def fill_product_form(form: ProductForm, product) -> None:
    """Show a stored product in the form (prices back in major units)."""
    from providers.base import to_major

    form.name.data, form.name_en.data, form.slug.data = product.name, product.name_en, product.slug
    form.description.data, form.description_en.data = product.description, product.description_en
    form.category_id.data = str(product.category_id or "")
    form.stock.data = product.stock
    form.stock_seen.data = str(product.stock)
    form.low_stock_threshold.data = product.low_stock_threshold
    form.active.data = product.active
    form.irembopay_product_code.data = product.irembopay_product_code or ""
    for price in product.prices:
        if price.currency in MARKETS:
            getattr(form, f"price_{price.currency}").data = str(to_major(price.amount, price.currency))


# delivery (delivery.options)

MARKET_CHOICES = [SelectChoice(c, f"{c} — {name}") for c, name in MARKETS.items()]


class ImportForm(FlaskForm):
    """A catalogue CSV file to preview (shop.catalog_csv), in the merchant's language."""

    file = FileField(lazy_gettext("Catalogue file (CSV)"),
                     validators=[FileRequired(message=lazy_gettext("Choose a CSV file first."))])
    submit = SubmitField(lazy_gettext("Preview the import"))


class CategoryForm(FlaskForm):
    name = StringField("Name (French)", validators=[Optional(), Length(max=120)])
    name_en = StringField("Name (English)", validators=[Optional(), Length(max=120)],
                          description="Customers reading the other language see the one you give.")
    slug = StringField("Address (slug)", validators=[Optional(), Length(max=80)],
                       description="Made from the name when left empty.")
    position = IntegerField("Position", validators=[Optional(), NumberRange(0, 1000)], default=0,
                            description="Smaller comes first in the shop's list.")
    active = BooleanField("Shown in the shop", default=True,
                          description="A hidden category leaves the list; its products stay on sale.")
    photo = FileField("Photo (optional: PNG, JPEG or WebP)", description="Shown at the top of its page.")
    remove_photo = BooleanField("Remove the photo")
    submit = SubmitField("Save")


class PromoForm(FlaskForm):
    """A promo code; amounts per market typed in major units like prices."""

    code = StringField("Code", validators=[DataRequired(), Length(max=32)],
                       description="What customers type, letters and digits (any case): TABASKI10")
    kind = SelectField("It gives", choices=[SelectChoice("percent", "a percentage off"),
                                            SelectChoice("fixed", "a fixed amount off (per market)"),
                                            SelectChoice("free_delivery", "free delivery")])
    percent = IntegerField("Percentage", validators=[Optional(), NumberRange(1, 100)])
    starts_on = DateField("From (optional)", validators=[Optional()])
    ends_on = DateField("Until, included (optional)", validators=[Optional()])
    max_uses = IntegerField("Orders in all (optional)", validators=[Optional(), NumberRange(1, 1_000_000)])
    max_uses_per_phone = IntegerField("Orders per customer phone (optional)",
                                      validators=[Optional(), NumberRange(1, 1000)])
    products = SelectMultipleField("Only these products (optional)", coerce=str, choices=[],
                                   validators=[Optional()])
    categories = SelectMultipleField("Only these categories (optional)", coerce=str, choices=[],
                                     validators=[Optional()], widget=ListWidget(prefix_label=False),
                                     option_widget=CheckboxInput())
    active = BooleanField("On", default=True)
    submit = SubmitField("Save")


for _currency in MARKETS:
    setattr(PromoForm, f"off_{_currency}", StringField(f"Amount off in {_currency}", validators=[Optional(), Length(max=20)]))
    setattr(PromoForm, f"min_{_currency}", StringField(f"Minimum cart in {_currency}",
                                                        validators=[Optional(), Length(max=20)]))


class ShopSettingsForm(FlaskForm):
    """What the merchant changes often about the shop; empty fields use the environment's value."""

    name = StringField("Shop name", validators=[Optional(), Length(max=120)],
                       description="In the header, the e-mails and on the gateways' pages.")
    contact = StringField("Contact", validators=[Optional(), Length(max=300)],
                          description="A phone and an e-mail customers can reach, shown at checkout.")
    delivery_note = TextAreaField("Checkout: delivery note", validators=[Optional(), Length(max=1000)])
    returns_note = TextAreaField("Checkout: returns note", validators=[Optional(), Length(max=1000)])
    about = TextAreaField("About us page (/about)", validators=[Optional(), Length(max=20000)],
                          description="Empty: no page. A blank line starts a new paragraph.")
    returns_policy = TextAreaField("Returns page (/returns)", validators=[Optional(), Length(max=20000)])
    terms = TextAreaField("Terms of sale page (/terms)", validators=[Optional(), Length(max=20000)])
    footer_links = TextAreaField("Footer links", validators=[Optional(), Length(max=3000)],
                                 description="One per line: Label | https://… (at most 10).")
    low_stock_threshold = IntegerField(
        "Low stock at", validators=[Optional(), NumberRange(0, 1_000_000)],
        description="The default for products that set none: at or below this many units of a variant you get "
                    "one e-mail. Empty: the server's LOW_STOCK_THRESHOLD.")
    logo = FileField("Logo (PNG, JPEG or WebP)", description="Shown in the header instead of the name.")
    remove_logo = BooleanField("Remove the logo")
    submit = SubmitField("Save")

    def validate_footer_links(self, field) -> None:
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            label, bar, url = line.partition("|")
            if not bar or not label.strip() or not url.strip().startswith(
                    ("https://", "http://", "mailto:", "tel:", "/")):
                raise ValidationError(f"Line {number}: write Label | https://… (or mailto:, tel:, /path).")


class ZoneForm(FlaskForm):
    """A home delivery zone; amounts typed in major units like product prices."""

    currency = SelectField("Market", choices=MARKET_CHOICES)
    name = StringField("Zone name", validators=[DataRequired(), Length(max=120)],
                       description="What customers read, e.g. Ouagadougou centre")
    fee = StringField("Fee", validators=[InputRequired(), Length(max=20)], description="0 for free delivery")
    free_from = StringField("Free from (items total)", validators=[Optional(), Length(max=20)],
                            description="Empty: never free")
    delay_min_days = IntegerField("Delay from (days)", validators=[InputRequired(), NumberRange(0, 90)], default=1)
    delay_max_days = IntegerField("Delay up to (days)", validators=[InputRequired(), NumberRange(0, 90)], default=3)
    cash_enabled = BooleanField("Cash on delivery / pay at pickup accepted", default=False)
    cash_max = StringField("Cash up to (order total)", validators=[Optional(), Length(max=20)],
                           description="Empty: no limit")
    position = IntegerField("Position", validators=[Optional(), NumberRange(0, 1000)], default=0)
    active = BooleanField("Offered at checkout", default=True)
    submit = SubmitField("Save")

    def validate_delay_max_days(self, field) -> None:
        if field.data is not None and self.delay_min_days.data is not None and field.data < self.delay_min_days.data:
            raise ValidationError("The longest delay is shorter than the shortest.")


class PointForm(FlaskForm):
    currency = SelectField("Market", choices=MARKET_CHOICES)
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    address = StringField("Address or landmark", validators=[DataRequired(), Length(max=200)])
    opening_hours = StringField("Opening hours", validators=[Optional(), Length(max=200)])
    cash_enabled = BooleanField("Cash on delivery / pay at pickup accepted", default=False)
    cash_max = StringField("Cash up to (order total)", validators=[Optional(), Length(max=20)],
                           description="Empty: no limit")
    position = IntegerField("Position", validators=[Optional(), NumberRange(0, 1000)], default=0)
    active = BooleanField("Offered at checkout", default=True)
    submit = SubmitField("Save")


class CollectForm(FlaskForm):
    """A cash order delivered (or picked up) and paid: the amount collected, in major units."""

    amount = StringField("Amount collected", validators=[DataRequired(), Length(max=20)])
    submit = SubmitField("Delivered and paid")


class RefuseForm(FlaskForm):
    """A cash order refused at the door or not collected: cancelled, stock back."""

    reason = StringField("Reason (the customer sees it)", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Refused / returned")


class ShipForm(FlaskForm):
    """Mark shipped, with an optional courier and tracking note (shown to the customer)."""

    courier = StringField("Courier", validators=[Optional(), Length(max=80)])
    tracking = StringField("Tracking note", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Mark shipped")

