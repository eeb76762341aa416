"""Dashboard views: validate → one service call → flash → 303 redirect.

Every view but the login page requires a signed-in merchant (``require_login``
runs before each request of the blueprint, so a new route cannot be left open).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from config import MARKETS
from core import phones
from core.redirects import local_path
from delivery import options as delivery_service
from extensions import db, limiter, login_manager
from media import images as media_images
from merchant import accounts, actions, reports, setup
from models import (
    Category,
    DeliveryZone,
    Order,
    Payment,
    PaymentEvent,
    PickupPoint,
    Product,
    PromoCode,
    ShopSettings,
)
from orders import fulfilment
from payments import attention
from providers import REGISTRY
from providers.base import to_major
from shop import catalog_csv
from shop import categories as category_service
from shop import products as product_service
from shop import promos as promo_service
from shop import stock as stock_service
from shop import variants as variant_service

from . import bp
from .forms import (
    CancelForm,
    CategoryForm,
    CollectForm,
    EmptyForm,
    ImportForm,
    LoginForm,
    NoteForm,
    OrderFilterForm,
    PointForm,
    ProductForm,
    PromoForm,
    ReasonForm,
    RefundForm,
    RefuseForm,
    ShipForm,
    ShopSettingsForm,
    ZoneForm,
    category_choices,
    fill_product_form,
    image_choices,
    product_data,
    uploaded_images,
)

PUBLIC_ENDPOINTS = {"admin.login"}
SESSION_KEY = "admin_session"  # the server-side session's id, next to Flask-Login's user id
LOGIN_SCOPE = "admin-login"


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in admin, only while the server-side session in the cookie is live."""
    admin = accounts.load_admin(user_id)
    if admin is None or not accounts.session_is_live(session.get(SESSION_KEY), admin):
        return None
    return admin


@bp.before_request
def require_login():
    """Anonymous visitors are sent to the login page (with ``next``)."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    """Dashboard pages hold customer data: browsers and proxies must not keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def admin_context():
    return {"empty_form": EmptyForm(), "pretty_payload": pretty_payload,
            "tel_url": phones.tel_url, "whatsapp_url": phones.whatsapp_url}


def pretty_payload(event: PaymentEvent) -> str:
    """A logged payload for reading: indented JSON, or the raw text as received. Any stored
    payload renders (deep nesting, lone surrogates, invalid UTF-8 included)."""
    text = printable(event.payload or "")
    try:
        data = json.loads(text)
        if isinstance(data, (dict, list)):
            return printable(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))
    except (ValueError, RecursionError):
        pass
    return text


def printable(text: str) -> str:
    """``text`` with anything that is not valid Unicode shown as an escape (``\\ud800``)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_next(target: str | None) -> str:
    """``next`` only when it is a path on this site (never another host)."""
    return local_path(target) or url_for("admin.overview")


# access

def _login_limits() -> list:
    return parse_many(current_app.config["ADMIN_LOGIN_RATE_LIMIT"])


def _login_key() -> tuple[str, str, str]:
    """The counters' identity: this shop's key prefix (two shops may share one Redis), the
    scope and the client address."""
    return current_app.config["RATELIMIT_KEY_PREFIX"], LOGIN_SCOPE, get_remote_address()


#: Where sign-ins are counted while the shared storage (Redis) does not answer: this process'
#: memory, so the limit still holds per process instead of failing the sign-in page.
_FALLBACK_LIMITER = FixedWindowRateLimiter(MemoryStorage())


def _hit(cost: int = 1) -> bool:
    try:
        return all([limiter.limiter.hit(item, *_login_key(), cost=cost) for item in _login_limits()])
    except Exception as exc:  # the storage away (redis.ConnectionError, a timeout): count here meanwhile
        current_app.logger.warning("sign-in limit storage unavailable (%s): counting in this process",
                                   type(exc).__name__)
        return all([_FALLBACK_LIMITER.hit(item, *_login_key(), cost=cost) for item in _login_limits()])


def count_sign_in_attempt() -> bool:
    """Count this attempt in every window *before* the password is checked (an atomic
    increment, so parallel attempts cannot all slip under the limit); False when over it."""
    return _hit()


def give_back_sign_in_attempt() -> None:
    """A successful sign-in does not use up the limit."""
    _hit(cost=-1)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; wrong e-mail and wrong password get the same answer."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")[:500]
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 400
    if not count_sign_in_attempt():
        current_app.logger.warning("dashboard sign-in refused: rate limit reached for %s", get_remote_address())
        abort(429, "Too many failed sign-ins from your address. Wait a few minutes and try again.")
    admin = accounts.authenticate(form.email.data, form.password.data)
    if admin is None:
        flash("Wrong e-mail or password.", "error")
        return render_template("admin/login.html", form=form), 401
    give_back_sign_in_attempt()
    target = safe_next(form.next.data)
    session.clear()  # no session fixation: a fresh session for the signed-in merchant
    login_user(admin)
    session[SESSION_KEY] = accounts.open_session(admin)
    return redirect(target, 303)


@bp.post("/logout")
def logout():
    """Sign out (a POST, so that no link or image can do it); the session ends on the server too."""
    if EmptyForm().validate_on_submit():
        accounts.revoke_session(session.get(SESSION_KEY))
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("admin.login"), 303)


# overview and attention

@bp.get("/")
def overview():
    """Revenue per day and currency, per-gateway conversion, what needs attention."""
    return render_template("admin/overview.html", setup=setup.checklist(), **reports.overview())


@bp.get("/attention")
def needs_attention():
    """Stuck payments, flagged payments and rejected callbacks, each with its fix."""
    return render_template("admin/attention.html", items=attention.needs_attention(),
                           reason_form=ReasonForm())


# orders

def _filter_form() -> OrderFilterForm:
    form = OrderFilterForm(request.args)
    form.gateway.choices = [SelectChoice("", "any gateway"), *[SelectChoice(n, p.display_name) for n, p in REGISTRY.items()]]
    zones, points = delivery_service.zones_and_points()
    form.zone.choices = [SelectChoice("", "any zone or point"),
                         *[SelectChoice(f"zone:{z.id}", f"{z.currency} · {z.name}") for z in zones],
                         *[SelectChoice(f"point:{p.id}", f"{p.currency} · pickup {p.name}") for p in points]]
    return form


def _filter_of(form: OrderFilterForm) -> reports.OrderFilter:
    return reports.OrderFilter(
        status=form.status.data or "", gateway=form.gateway.data or "",
        currency=form.currency.data or "", date_from=form.date_from.data,
        date_to=form.date_to.data, q=form.q.data or "", delivery=form.delivery.data or "",
        zone=form.zone.data or "", fulfilment=form.fulfilment.data or "",
    )


@bp.get("/orders")
def orders():
    """Filtered, searchable, paginated orders with the totals of the filtered set."""
    form = _filter_form()
    if not form.validate():
        return render_template("admin/orders.html", form=form, result=None), 400
    result = reports.order_page(_filter_of(form), form.page.data or 1)
    return render_template("admin/orders.html", form=form, result=result)


@bp.get("/orders.csv")
def orders_csv():
    """The filtered orders as CSV, streamed (amounts in major units)."""
    form = _filter_form()
    if not form.validate():
        abort(400, "Check the filters: " + "; ".join(e for errors in form.errors.values() for e in errors))
    filename = f"orders-{date.today().isoformat()}.csv"  # noqa: DTZ011  (the server's day is fine in a file name)
    return Response(stream_with_context(reports.csv_rows(_filter_of(form))), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _order_or_404(reference: str) -> Order:
    if len(reference) > 20:
        abort(404)
    order_id = db.session.scalar(select(Order.id).where(Order.reference == reference))
    return (reports.order_detail(order_id) if order_id else None) or abort(404)


@bp.get("/orders/<reference>")
def order(reference: str):
    """Lines, customer, every attempt with its log, and the actions."""
    item = _order_or_404(reference)
    return render_template("admin/order.html", order=item, order_log=reports.order_log(item),
                           note_form=NoteForm(), reason_form=ReasonForm(), ship_form=ShipForm(),
                           cancel_form=CancelForm(), refund_form=RefundForm(),
                           refunded_quantities=actions.refunded_quantities(item),
                           line_names={line.id: line.name for line in item.lines},
                           whatsapp_text=customer_message(item),
                           fulfilment_actions=fulfilment.next_actions(item),
                           collect_form=CollectForm(amount=str(to_major(item.total, item.currency))),
                           refuse_form=RefuseForm())


def customer_message(order: Order) -> str:
    """The WhatsApp message the order page prefills, in the customer's language."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from core.urls import external_url

    with force_locale(order.language or current_app.config["DEFAULT_LOCALE"]):
        return _("Hello %(name)s, about your order %(reference)s (%(url)s): ", name=order.customer_name,
                 reference=order.reference, url=external_url("checkout.order", token=order.token))


def _act(reference: str, form, action, done: str):
    """Run one action on an order from a validated POST, flash its outcome, back to the order."""
    item = _order_or_404(reference)
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors) or "Nothing sent.", "error")
        return redirect(url_for("admin.order", reference=reference), 303)
    try:
        outcome = action(item)
        flash(outcome if isinstance(outcome, str) else done, "success")
    except accounts.AdminError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.order", reference=reference), 303)


@bp.post("/orders/<reference>/payments/<int:payment_id>/recheck")
def recheck(reference: str, payment_id: int):
    """Ask the gateway now about one attempt."""
    payment = db.get_or_404(Payment, payment_id)
    return _act(reference, EmptyForm(),
                lambda o: "Re-checked: " + actions.recheck(o, payment, current_user.email), "")


@bp.post("/orders/<reference>/cancel")
def cancel(reference: str):
    """Cancel a pending or paid order with a reason; stock goes back for every line, or for the
    lines ticked (``restock`` values, when the form says it offered the choice)."""
    form = CancelForm()
    restock = _ids(request.form.getlist("restock")) if request.form.get("restock_offered") else None
    return _act(reference, form, lambda o: actions.cancel(o, current_user.email, form.reason.data or "", restock),
                "Order cancelled.")


def _ids(values: list[str]) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit() and len(v) < 10})


@bp.post("/orders/<reference>/refund")
def refund(reference: str):
    """Record money given back: everything left, an amount, or units of lines."""
    form = RefundForm()
    quantities: dict[int, int] = {}
    for key, value in request.form.items():
        line_id = key.removeprefix("qty-")
        if key.startswith("qty-") and line_id.isdigit() and len(line_id) < 10 and value.strip():
            if not value.strip().isdigit() or len(value.strip()) > 6:
                flash("Quantities to refund are whole numbers.", "error")
                return redirect(url_for("admin.order", reference=reference), 303)
            quantities[int(line_id)] = int(value.strip())
    return _act(reference, form, lambda o: actions.refund(
        o, current_user.email, method=form.method.data or "", amount_text=form.amount.data or "",
        full=bool(form.full.data), quantities=quantities, reference=form.reference.data or "",
        note=form.note.data or ""), "Refund recorded.")


@bp.post("/orders/<reference>/note")
def note(reference: str):
    """Add a note to the order's log."""
    form = NoteForm()
    return _act(reference, form, lambda o: actions.add_note(o, current_user.email, form.note.data),
                "Note added.")


@bp.post("/payments/<int:payment_id>/acknowledge")
def acknowledge(payment_id: int):
    """Clear a payment's attention flag, with a logged note."""
    payment = db.get_or_404(Payment, payment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            actions.acknowledge(payment, current_user.email, form.note.data or "")
            flash(f"{payment.reference} acknowledged.", "success")
        except accounts.AdminError as exc:
            flash(str(exc), "error")
    if request.form.get("back") == "order":
        return redirect(url_for("admin.order", reference=payment.order.reference), 303)
    return redirect(url_for("admin.needs_attention"), 303)


@bp.post("/callbacks/<int:id>/review")
def review_callback(id: int):  # noqa: A002 (the shop's CSRF test fills <int:id> in)
    """Mark a rejected callback as looked at."""
    event = db.get_or_404(PaymentEvent, id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            actions.review_callback(event, current_user.email, form.note.data or "")
            flash(f"Callback #{event.id} marked as reviewed.", "success")
        except accounts.AdminError as exc:
            flash(str(exc), "error")
    return redirect(url_for("admin.needs_attention"), 303)


# products

@bp.get("/products")
def products():
    """Every product with its prices, stock and state; ``q`` searches names and descriptions."""
    q = request.args.get("q", "")[:product_service.SEARCH_MAX]
    low = request.args.get("low") == "1"
    return render_template("admin/products.html", products=product_service.all_products(q, low), q=q, low=low,
                           low_ids={v.id for v in stock_service.low_stock()})


@bp.get("/products/export.csv")
def products_csv():
    """The whole catalogue in the import's format, streamed; ``format=excel-fr``: semicolons and
    decimal commas for a French Excel (docs/catalogue-csv.md)."""
    excel_fr = request.args.get("format") == "excel-fr"
    filename = f"catalogue-{date.today().isoformat()}{'-excel' if excel_fr else ''}.csv"  # noqa: DTZ011
    return Response(stream_with_context(catalog_csv.export(excel_fr)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/products/import", methods=["GET", "POST"])
def import_products():
    """Upload a catalogue CSV: the preview of what it creates and updates, or its errors."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = catalog_csv.preview(upload.stream.read(catalog_csv.MAX_BYTES + 1), upload.filename or "",
                                         current_user.id)
        except catalog_csv.CatalogueFileError as exc:
            form.file.errors = [*form.file.errors, str(exc)]
            return render_template("admin/import.html", form=form, max_kb=catalog_csv.MAX_BYTES // 1024), 400
        return _import_preview(result, status=200 if result.plan.ok else 400)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/import.html", form=form, max_kb=catalog_csv.MAX_BYTES // 1024), status


def _import_preview(result: catalog_csv.Preview, status: int = 200, error: str = ""):
    return render_template("admin/import_preview.html", preview=result, plan=result.plan, error=error), status


@bp.post("/products/import/<token>")
def confirm_import(token: str):
    """Import the previewed file, all of it in one transaction or nothing."""
    if not EmptyForm().validate_on_submit():
        abort(400, gettext("Nothing sent."))
    try:
        if len(token) > 64:
            raise catalog_csv.PreviewGone(token)
        done = catalog_csv.confirm(token, current_user.id)
    except catalog_csv.PreviewGone:
        flash(gettext("This preview was already imported, replaced by a newer one or has expired: "
                      "upload the file again."), "error")
        return redirect(url_for("admin.import_products"), 303)
    except catalog_csv.ImportFailed as exc:
        return _import_preview(exc.preview, status=409, error=str(exc))
    plan = done.plan
    flash(gettext("Imported %(file)s: %(created)s product(s) created, %(updated)s updated, %(unchanged)s unchanged.",
                  file=done.filename or gettext("the file"), created=plan.count("create"),
                  updated=plan.count("update"), unchanged=plan.count("unchanged")), "success")
    return redirect(url_for("admin.products"), 303)


def _product_form(product: Product | None = None) -> ProductForm:
    # several photos per request, each at most PRODUCT_IMAGE_MAX_BYTES (checked one by one)
    request.max_content_length = current_app.config["PRODUCT_IMAGE_MAX_BYTES"] * 4 + 64 * 1024
    form = ProductForm()
    category_choices(form, product_service.categories())
    image_choices(form, product)
    return form


def _stock_seen(raw: str | None, current: int) -> int:
    """The stock the form showed (a hidden field, so possibly tampered with), else ``current``."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 7 else current
def _photo_changes(form: ProductForm):
    """The photo part of the form, for shop.products."""
    main = form.main_image.data
    return product_service.PhotoChanges(
        uploads=[f.stream for f in uploaded_images(form)],
        main_id=int(main) if (main or "").isdigit() else None,
        delete_ids={int(i) for i in form.delete_images.data or [] if i.isdigit()})


def _save_product(form: ProductForm, product: Product | None):
    """Validate and save; on a problem, the form again with the reason under its field."""
    if form.validate_on_submit():
        try:
            if product is None:
                product = product_service.create_product(product_data(form), _photo_changes(form))
            else:
                seen = _stock_seen(form.stock_seen.data, product.stock)
                product_service.update_product(product, product_data(form), seen, _photo_changes(form))
            flash(f"{product.name or product.name_en} saved.", "success")
            return redirect(url_for("admin.edit_product", product_id=product.id), 303)
        except product_service.ProductError as exc:
            field = getattr(form, f"price_{exc.field}", None) or getattr(form, exc.field, None) or form.name
            field.errors = [*field.errors, str(exc)]
            return render_template("admin/product_form.html", form=form, product=product), exc.http_status
    status = 400 if request.method == "POST" else 200
    return render_template("admin/product_form.html", form=form, product=product), status


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    """Create a product."""
    return _save_product(_product_form(), None)


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
def edit_product(product_id: int):
    """Edit a product: text, category, image, stock, prices, on sale or not."""
    product = db.get_or_404(Product, product_id)
    form = _product_form(product)
    if request.method == "GET":
        fill_product_form(form, product)
    return _save_product(form, product)


# variants (shop.variants): option names, then one row per combination

#: Empty rows the variants page offers for new combinations.
NEW_VARIANT_ROWS = 3


def _variant_rows(form) -> list[variant_service.VariantRow]:
    """The variants page's rows as typed (``v-<n>-…`` fields; garbage becomes a clear error)."""
    rows = []
    count = form.get("rows", "0")
    for n in range(min(int(count) if count.isdigit() else 0, variant_service.MAX_VARIANTS + NEW_VARIANT_ROWS)):
        get = lambda name, n=n: (form.get(f"v-{n}-{name}") or "").replace("\x00", "")  # noqa: E731
        raw_id, raw_stock, raw_seen, raw_image = get("id"), get("stock").strip(), get("stock_seen"), get("image")
        if raw_stock and not (raw_stock.isascii() and raw_stock.isdigit() and len(raw_stock) <= 7):
            raise variant_service.VariantError("The stock is a whole number from 0 up.", "stock", n)
        rows.append(variant_service.VariantRow(
            id=int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None,
            values=tuple(get(f"option{i}")[:200] for i in (1, 2, 3)),
            sku=get("sku")[:200],
            stock=int(raw_stock) if raw_stock else 0,
            stock_seen=int(raw_seen) if raw_seen.isdigit() and len(raw_seen) <= 7 else None,
            prices={c: get(f"price_{c}")[:20] for c in MARKETS},
            image_id=int(raw_image) if raw_image.isdigit() and len(raw_image) < 10 else None,
            delete=get("delete") == "1"))
    return rows


@bp.route("/products/<int:product_id>/variants", methods=["GET", "POST"])
def product_variants(product_id: int):
    """A product's options (up to three) and variants: SKU, stock, own prices, photo."""
    product = db.get_or_404(Product, product_id)
    error, status = None, 200
    names = [o.name for o in product.options]
    names_en = [o.name_en or "" for o in product.options]
    rows = _stored_rows(product)
    if request.method == "POST":
        names = [request.form.get(f"option_{i}", "")[:200] for i in range(3)]
        names_en = [request.form.get(f"option_en_{i}", "")[:200] for i in range(3)]
        try:
            rows = []
            rows = _variant_rows(request.form)
            if request.form.get("action") == "generate":
                values = [request.form.get(f"values_{i}", "")[:2000].split(",") for i in range(3)]
                have = {v.values for v in product.variants}
                missing = variant_service.combinations(
                    [vs for vs, name in zip(values, names, strict=True) if name.strip()], have)
                rows = [r for r in rows if not r.blank] + [
                    variant_service.VariantRow(id=None, values=combo) for combo in missing]
                if not missing:
                    raise variant_service.VariantError(
                        "Type each option's values (S, M, L) to add their missing combinations.", "options")
            variant_service.save(product, names, rows, names_en)
            flash(f"Variants of {product.name or product.name_en} saved.", "success")
            return redirect(url_for("admin.product_variants", product_id=product.id), 303)
        except variant_service.VariantError as exc:  # the page again, as typed, the reason at its row
            db.session.rollback()
            product = db.get_or_404(Product, product_id)
            error, status = exc, 400
            rows = [r for r in rows if not r.blank] or _stored_rows(product)
    blank = variant_service.VariantRow(id=None, values=("", "", ""))
    return render_template("admin/variants.html", product=product, names=(names + ["", "", ""])[:3],
                           names_en=(names_en + ["", "", ""])[:3],
                           rows=rows + [blank] * NEW_VARIANT_ROWS, error=error), status


def _stored_rows(product: Product) -> list[variant_service.VariantRow]:
    """The product's variants as the page's rows (prices back in major units)."""
    return [variant_service.VariantRow(
        id=v.id, values=(v.option1, v.option2, v.option3), sku=v.sku or "", stock=v.stock, stock_seen=v.stock,
        prices={p.currency: str(to_major(p.amount, p.currency)) for p in v.prices}, image_id=v.image_id)
        for v in product.variants]


# shop settings (models.ShopSettings)

SETTINGS_FIELDS = ("name", "contact", "delivery_note", "returns_note", "about", "returns_policy", "terms",
                   "footer_links")


@bp.route("/settings", methods=["GET", "POST"])
def shop_settings():
    """The shop's name, contact, checkout notes, pages and footer links."""
    row = db.session.get(ShopSettings, 1)
    form = ShopSettingsForm()
    if request.method == "GET" and row is not None:
        for name in SETTINGS_FIELDS:
            getattr(form, name).data = getattr(row, name)
        form.low_stock_threshold.data = row.low_stock_threshold
    request.max_content_length = current_app.config["PRODUCT_IMAGE_MAX_BYTES"] + 64 * 1024
    if form.validate_on_submit():
        upload = _uploaded(form.logo)
        logo = None
        if upload is not None:
            try:
                logo = media_images.store(product_service.read_upload(upload.stream))
            except (media_images.ImageError, product_service.ProductError) as exc:
                form.logo.errors = [*form.logo.errors, str(exc)]
                return render_template("admin/settings.html", form=form, row=row, fallback=_fallbacks()), 400
        row = row or ShopSettings(id=1)
        for name in SETTINGS_FIELDS:
            setattr(row, name, (getattr(form, name).data or "").strip().replace("\x00", ""))
        row.low_stock_threshold = form.low_stock_threshold.data
        if logo is not None:
            row.logo_digest, row.logo_width, row.logo_height, row.logo_widths = (
                logo.digest, logo.width, logo.height, logo.widths)
        elif form.remove_logo.data:
            row.logo_digest, row.logo_width, row.logo_height, row.logo_widths = "", 0, 0, ""
        db.session.add(row)
        db.session.commit()  # the catalogue's version moves too: cached pages show the new name
        flash("Shop settings saved.", "success")
        return redirect(url_for("admin.shop_settings"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form, row=row, fallback=_fallbacks()), status


def _uploaded(field):
    """The file chosen in a single-file field, or None when none was."""
    return field.data if field.data and getattr(field.data, "filename", "") else None


def _fallbacks() -> dict:
    return {"name": current_app.config.get("SHOP_NAME"), "contact": current_app.config.get("SHOP_CONTACT")}


# categories (shop.categories)

@bp.get("/categories")
def categories():
    """Every category, hidden ones too, with how many products each holds."""
    return render_template("admin/categories.html", rows=category_service.all_categories())


def _save_category(category: Category | None):
    form = CategoryForm()
    if request.method == "GET" and category is not None:
        form.name.data, form.name_en.data, form.slug.data = category.name, category.name_en, category.slug
        form.position.data, form.active.data = category.position, category.active
    request.max_content_length = current_app.config["PRODUCT_IMAGE_MAX_BYTES"] + 64 * 1024
    if form.validate_on_submit():
        upload = _uploaded(form.photo)
        try:
            photo = product_service.read_upload(upload.stream) if upload is not None else None
        except product_service.ProductError as exc:
            form.photo.errors = [*form.photo.errors, str(exc)]
            return render_template("admin/category_form.html", form=form, item=category), 400
        data = category_service.CategoryData(form.name.data or "", form.name_en.data or "", form.slug.data or "",
                                             form.position.data or 0, bool(form.active.data), photo,
                                             bool(form.remove_photo.data))
        try:
            saved = category_service.save_category(category, data)
            flash(f"Category {saved.name or saved.name_en} saved.", "success")
            return redirect(url_for("admin.categories"), 303)
        except category_service.CategoryError as exc:
            db.session.rollback()
            field = getattr(form, exc.field)
            field.errors = [*field.errors, str(exc)]
    status = 400 if request.method == "POST" else 200
    return render_template("admin/category_form.html", form=form, item=category), status


@bp.route("/categories/new", methods=["GET", "POST"])
def new_category():
    return _save_category(None)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int):
    return _save_category(db.get_or_404(Category, category_id))


# promo codes (shop.promos)

@bp.get("/promos")
def promos_page():
    """Every promo code: what it gives, when, how often it was used."""
    return render_template("admin/promos.html", promos=promo_service.all_codes())


def _day_start(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.utc) if day else None


def _save_promo(promo):
    form = PromoForm()
    form.products.choices = [SelectChoice(str(p.id), p.name or p.name_en) for p in product_service.all_products()]
    form.categories.choices = [SelectChoice(str(c.id), c.name or c.name_en) for c in product_service.categories()]
    if request.method == "GET" and promo is not None:
        form.code.data, form.kind.data, form.percent.data = promo.code, promo.kind, promo.percent
        form.starts_on.data = promo.starts_at.date() if promo.starts_at else None
        form.ends_on.data = (promo.ends_at - timedelta(days=1)).date() if promo.ends_at else None
        form.max_uses.data, form.max_uses_per_phone.data = promo.max_uses, promo.max_uses_per_phone
        form.products.data = [str(p.id) for p in promo.products]
        form.categories.data = [str(c.id) for c in promo.categories]
        form.active.data = promo.active
        for m in promo.markets:
            if m.amount_off:
                getattr(form, f"off_{m.currency}").data = str(to_major(m.amount_off, m.currency))
            if m.min_subtotal:
                getattr(form, f"min_{m.currency}").data = str(to_major(m.min_subtotal, m.currency))
    if form.validate_on_submit():
        data = promo_service.PromoData(
            code=form.code.data or "", kind=form.kind.data, percent=form.percent.data,
            markets={c: (getattr(form, f"off_{c}").data or "", getattr(form, f"min_{c}").data or "") for c in MARKETS},
            starts_at=_day_start(form.starts_on.data),
            ends_at=_day_start(form.ends_on.data + timedelta(days=1)) if form.ends_on.data else None,
            max_uses=form.max_uses.data, max_uses_per_phone=form.max_uses_per_phone.data,
            product_ids=tuple(int(i) for i in form.products.data or [] if i.isdigit()),
            category_ids=tuple(int(i) for i in form.categories.data or [] if i.isdigit()),
            active=bool(form.active.data))
        try:
            saved = promo_service.save_promo(promo, data)
            flash(f"Code {saved.code} saved.", "success")
            return redirect(url_for("admin.promos_page"), 303)
        except promo_service.PromoDataError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None) or form.code
            field.errors = [*field.errors, str(exc)]
            return render_template("admin/promo_form.html", form=form, promo=promo), 400
    status = 400 if request.method == "POST" else 200
    return render_template("admin/promo_form.html", form=form, promo=promo), status


@bp.route("/promos/new", methods=["GET", "POST"])
def new_promo():
    return _save_promo(None)


@bp.route("/promos/<int:promo_id>", methods=["GET", "POST"])
def edit_promo(promo_id: int):
    return _save_promo(db.get_or_404(PromoCode, promo_id))


# delivery and fulfilment (delivery.options, orders.fulfilment)

@bp.get("/fulfil")
def to_fulfil():
    """Paid orders whose goods have not left yet, oldest paid first."""
    return render_template("admin/to_fulfil.html", orders=fulfilment.to_fulfil())


@bp.post("/orders/<reference>/fulfil")
def fulfil(reference: str):
    """One forward fulfilment move, named by the form's ``action`` (who did it goes in the order log)."""
    action = request.form.get("action", "")
    if action not in fulfilment.ACTIONS:
        abort(400, "Unknown fulfilment action.")
    form = ShipForm() if action == "shipped" else EmptyForm()
    return _act(reference, form, lambda o: _advance(o, action, form), "")


def _advance(order: Order, action: str, form) -> str:
    courier = form.courier.data or "" if action == "shipped" else ""
    tracking = form.tracking.data or "" if action == "shipped" else ""
    if not fulfilment.advance(order, action, current_user.email, courier, tracking):
        db.session.rollback()
        raise accounts.AdminError(f"Not done: the order is {order.status}, fulfilment "
                                       f"{order.fulfilment_status.replace('_', ' ')} (forward moves only).")
    db.session.commit()
    return f"Fulfilment: {order.fulfilment_status.replace('_', ' ')}."


@bp.post("/orders/<reference>/collect")
def collect(reference: str):
    """A cash order delivered (or picked up) and paid: the amount collected."""
    form = CollectForm()
    return _act(reference, form, lambda o: actions.collect(o, current_user.email, form.amount.data or ""), "")


@bp.post("/orders/<reference>/refuse")
def refuse(reference: str):
    """A cash order refused at the door or not collected: cancelled, stock back."""
    form = RefuseForm()
    return _act(reference, form, lambda o: actions.refuse(o, current_user.email, form.reason.data or ""), "")


@bp.get("/orders/<reference>/slip")
def packing_slip(reference: str):
    """A printable packing slip / delivery note with the reference as a QR code."""
    item = _order_or_404(reference)
    return render_template("admin/packing_slip.html", order=item, qr_svg=delivery_service.qr_svg(item.reference))


@bp.get("/delivery")
def delivery():
    """Delivery zones and pickup points of every market."""
    zones, points = delivery_service.zones_and_points()
    return render_template("admin/delivery.html", zones=zones, points=points)


def _zone_data(form: ZoneForm) -> dict | None:
    """The zone as typed, amounts in minor units; None with the reason under its field."""
    from shop.products import ProductError, to_minor

    currency = form.currency.data
    data = {"currency": currency, "name": form.name.data.strip(), "delay_min_days": form.delay_min_days.data,
            "delay_max_days": form.delay_max_days.data, "position": form.position.data or 0,
            "active": bool(form.active.data)}
    data["cash_enabled"] = bool(form.cash_enabled.data)
    for name in ("fee", "free_from", "cash_max"):
        raw = (getattr(form, name).data or "").strip()
        try:
            data[name] = None if not raw else 0 if raw.strip("0.,") == "" else to_minor(raw, currency)
        except ProductError as exc:
            getattr(form, name).errors = [*getattr(form, name).errors, str(exc)]
            return None
    if data["fee"] is None:
        form.fee.errors = [*form.fee.errors, "Give the fee (0 for free)."]
        return None
    if data["free_from"] == 0:
        data["free_from"] = None
    if data["cash_max"] == 0:
        data["cash_max"] = None
    return data


def _save_zone(zone: DeliveryZone | None):
    form = ZoneForm(obj=None)
    if request.method == "GET" and zone is not None:
        _fill_zone(form, zone)
    if form.validate_on_submit():
        data = _zone_data(form)
        if data is not None:
            zone = delivery_service.save(zone or DeliveryZone(), data)
            flash(f"Zone {zone.name} saved.", "success")
            return redirect(url_for("admin.delivery"), 303)
    return render_template("admin/delivery_form.html", form=form, what="zone", item=zone), \
        400 if request.method == "POST" else 200


def _fill_zone(form: ZoneForm, zone: DeliveryZone) -> None:
    from providers.base import to_major

    form.currency.data, form.name.data = zone.currency, zone.name
    form.fee.data = str(to_major(zone.fee, zone.currency))
    form.free_from.data = str(to_major(zone.free_from, zone.currency)) if zone.free_from else ""
    form.delay_min_days.data, form.delay_max_days.data = zone.delay_min_days, zone.delay_max_days
    form.position.data, form.active.data = zone.position, zone.active
    form.cash_enabled.data = zone.cash_enabled
    form.cash_max.data = str(to_major(zone.cash_max, zone.currency)) if zone.cash_max else ""


@bp.route("/delivery/zones/new", methods=["GET", "POST"])
def new_zone():
    """Create a home delivery zone."""
    return _save_zone(None)


@bp.route("/delivery/zones/<int:id>", methods=["GET", "POST"])
def edit_zone(id: int):  # noqa: A002 (the shop's CSRF test fills <int:id> in)
    """Edit a zone; unticking "offered at checkout" deactivates it (past orders keep theirs)."""
    return _save_zone(db.get_or_404(DeliveryZone, id))


def _save_point(point: PickupPoint | None):
    form = PointForm(obj=point if request.method == "GET" else None)
    if request.method == "GET" and point is not None:
        form.cash_max.data = str(to_major(point.cash_max, point.currency)) if point.cash_max else ""
    if form.validate_on_submit():
        data = {"currency": form.currency.data, "name": form.name.data.strip(),
                "address": form.address.data.strip(), "opening_hours": (form.opening_hours.data or "").strip(),
                "position": form.position.data or 0, "active": bool(form.active.data),
                "cash_enabled": bool(form.cash_enabled.data)}
        cash_max = _cash_max(form)
        if cash_max is not False:
            data["cash_max"] = cash_max
            point = delivery_service.save(point or PickupPoint(), data)
            flash(f"Pickup point {point.name} saved.", "success")
            return redirect(url_for("admin.delivery"), 303)
    return render_template("admin/delivery_form.html", form=form, what="pickup point", item=point), \
        400 if request.method == "POST" else 200


def _cash_max(form) -> int | None | bool:
    """The cash maximum typed (major units) in minor units, None for no limit; False with the
    reason under the field."""
    from shop.products import ProductError, to_minor

    raw = (form.cash_max.data or "").strip()
    try:
        return None if not raw or raw.strip("0.,") == "" else to_minor(raw, form.currency.data)
    except ProductError as exc:
        form.cash_max.errors = [*form.cash_max.errors, str(exc)]
        return False


@bp.route("/delivery/points/new", methods=["GET", "POST"])
def new_point():
    """Create a pickup point."""
    return _save_point(None)


@bp.route("/delivery/points/<int:id>", methods=["GET", "POST"])
def edit_point(id: int):  # noqa: A002
    """Edit a pickup point, or deactivate it."""
    return _save_point(db.get_or_404(PickupPoint, id))


@bp.post("/delivery/zones/<int:id>/deactivate")
def deactivate_zone(id: int):  # noqa: A002
    """No longer offer a zone at checkout (orders that chose it keep it)."""
    return _deactivate(db.get_or_404(DeliveryZone, id))


@bp.post("/delivery/points/<int:id>/deactivate")
def deactivate_point(id: int):  # noqa: A002
    """No longer offer a pickup point at checkout."""
    return _deactivate(db.get_or_404(PickupPoint, id))


def _deactivate(item):
    if EmptyForm().validate_on_submit():
        delivery_service.save(item, {"active": False})
        flash(f"{item.name} is no longer offered at checkout.", "success")
    return redirect(url_for("admin.delivery"), 303)


# background jobs

@bp.get("/jobs")
def jobs_page():
    """Jobs that kept failing after their retries (RQ's failed registry), each with a retry button,
    and how much waits on the queue."""
    from redis.exceptions import RedisError

    from core import jobs

    configured = bool(jobs.redis_url(current_app.config))
    failed, depth, unreachable = [], None, False
    if configured:
        try:
            failed, depth = jobs.failed_jobs(), jobs.depth()
        except RedisError:
            unreachable = True
    return render_template("admin/jobs.html", configured=configured, failed=failed, depth=depth,
                           unreachable=unreachable)


@bp.post("/jobs/<job_id>/retry")
def retry_job(job_id: str):
    """Put one failed job back on the queue."""
    from redis.exceptions import RedisError

    from core import jobs

    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if jobs.retry_failed(job_id):
                current_app.logger.info("%s put job %s back on the queue", current_user.email, job_id)
                flash("The job is back on the queue: a worker runs it in a moment.", "success")
            else:
                flash("That job is no longer in the failed list (already retried, or expired).", "error")
        except RedisError:
            flash("The job queue (Redis) does not answer: try again in a moment.", "error")
    return redirect(url_for("admin.jobs_page"), 303)
