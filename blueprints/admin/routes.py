"""Dashboard views: validate → one service call → flash → 303 redirect.

Every view but the login page requires a signed-in merchant (``require_login``
runs before each request of the blueprint, so a new route cannot be left open).
"""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlsplit

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
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from extensions import db, limiter, login_manager
from models import Order, Payment, PaymentEvent, Product
from providers import REGISTRY
from services import admin as admin_service
from services import attention, reports
from services import products as product_service

from . import bp
from .forms import (
    EmptyForm,
    LoginForm,
    NoteForm,
    OrderFilterForm,
    ProductForm,
    ReasonForm,
    category_choices,
    fill_product_form,
    image_choices,
    product_data,
    uploaded_images,
)

PUBLIC_ENDPOINTS = {"admin.login"}
FAILED_LOGIN_CODES = {401}


@login_manager.user_loader
def load_user(session_id: str):
    return admin_service.load_admin(session_id)


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
    return {"empty_form": EmptyForm(), "pretty_payload": pretty_payload}


def pretty_payload(event: PaymentEvent) -> str:
    """A logged payload for reading: indented JSON, or the raw text as received."""
    data = event.payload_data
    if isinstance(data, (dict, list)):
        return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return event.payload


def safe_next(target: str | None) -> str:
    """``next`` only when it is a path on this site (never another host)."""
    target = (target or "").strip()
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme
            or parts.netloc or any(ch in target for ch in "\r\n\\")):
        return url_for("admin.overview")
    return target


# access

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ADMIN_LOGIN_RATE_LIMIT"], methods=["POST"],
               deduct_when=lambda response: response.status_code in FAILED_LOGIN_CODES,
               error_message="Too many failed sign-ins from your address. Wait a few minutes and try again.")
def login():
    """Sign in; wrong e-mail and wrong password get the same answer."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")[:500]
    if not form.validate_on_submit():
        return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 400
    admin = admin_service.authenticate(form.email.data, form.password.data)
    if admin is None:
        flash("Wrong e-mail or password.", "error")
        return render_template("admin/login.html", form=form), 401
    target = safe_next(form.next.data)
    session.clear()  # no session fixation: a fresh session for the signed-in merchant
    login_user(admin)
    return redirect(target, 303)


@bp.post("/logout")
def logout():
    """Sign out (a POST, so that no link or image can do it)."""
    if EmptyForm().validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("admin.login"), 303)


# overview and attention

@bp.get("/")
def overview():
    """Revenue per day and currency, per-gateway conversion, what needs attention."""
    return render_template("admin/overview.html", **reports.overview())


@bp.get("/attention")
def needs_attention():
    """Stuck payments, flagged payments and rejected callbacks, each with its fix."""
    return render_template("admin/attention.html", items=attention.needs_attention(),
                           reason_form=ReasonForm())


# orders

def _filter_form() -> OrderFilterForm:
    form = OrderFilterForm(request.args)
    form.gateway.choices = [SelectChoice("", "any gateway"), *[SelectChoice(n, p.display_name) for n, p in REGISTRY.items()]]
    return form


def _filter_of(form: OrderFilterForm) -> reports.OrderFilter:
    return reports.OrderFilter(
        status=form.status.data or "", gateway=form.gateway.data or "",
        currency=form.currency.data or "", date_from=form.date_from.data,
        date_to=form.date_to.data, q=form.q.data or "",
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
    filename = f"orders-{date.today().isoformat()}.csv"
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
                           note_form=NoteForm(), reason_form=ReasonForm())


def _act(reference: str, form, action, done: str):
    """Run one action on an order from a validated POST, flash its outcome, back to the order."""
    item = _order_or_404(reference)
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors) or "Nothing sent.", "error")
        return redirect(url_for("admin.order", reference=reference), 303)
    try:
        outcome = action(item)
        flash(outcome if isinstance(outcome, str) else done, "success")
    except admin_service.AdminError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.order", reference=reference), 303)


@bp.post("/orders/<reference>/payments/<int:payment_id>/recheck")
def recheck(reference: str, payment_id: int):
    """Ask the gateway now about one attempt."""
    payment = db.get_or_404(Payment, payment_id)
    return _act(reference, EmptyForm(),
                lambda o: "Re-checked: " + admin_service.recheck(o, payment, current_user.email), "")


@bp.post("/orders/<reference>/cancel")
def cancel(reference: str):
    """Cancel a pending order; its stock goes back on sale."""
    return _act(reference, EmptyForm(), lambda o: admin_service.cancel(o, current_user.email),
                "Order cancelled; its stock is back on sale.")


@bp.post("/orders/<reference>/refunded")
def refunded(reference: str):
    """Record that a paid order was refunded at the gateway."""
    form = ReasonForm()
    return _act(reference, form, lambda o: admin_service.mark_refunded(o, current_user.email, form.note.data or ""),
                "Order marked refunded.")


@bp.post("/orders/<reference>/note")
def note(reference: str):
    """Add a note to the order's log."""
    form = NoteForm()
    return _act(reference, form, lambda o: admin_service.add_note(o, current_user.email, form.note.data),
                "Note added.")


@bp.post("/payments/<int:payment_id>/acknowledge")
def acknowledge(payment_id: int):
    """Clear a payment's attention flag, with a logged note."""
    payment = db.get_or_404(Payment, payment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            admin_service.acknowledge(payment, current_user.email, form.note.data or "")
            flash(f"{payment.reference} acknowledged.", "success")
        except admin_service.AdminError as exc:
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
            admin_service.review_callback(event, current_user.email, form.note.data or "")
            flash(f"Callback #{event.id} marked as reviewed.", "success")
        except admin_service.AdminError as exc:
            flash(str(exc), "error")
    return redirect(url_for("admin.needs_attention"), 303)


# products

@bp.get("/products")
def products():
    """Every product with its prices, stock and state."""
    return render_template("admin/products.html", products=product_service.all_products())


def _product_form(product: Product | None = None) -> ProductForm:
    # several photos per request, each at most PRODUCT_IMAGE_MAX_BYTES (checked one by one)
    request.max_content_length = current_app.config["PRODUCT_IMAGE_MAX_BYTES"] * 4 + 64 * 1024
    form = ProductForm()
    category_choices(form, product_service.categories())
    image_choices(form, product)
    return form


def _photo_changes(form: ProductForm):
    """The photo part of the form, for services.products."""
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
                seen = int(form.stock_seen.data) if (form.stock_seen.data or "").isdigit() else product.stock
                product_service.update_product(product, product_data(form), seen, _photo_changes(form))
            flash(f"{product.name or product.name_en} saved.", "success")
            return redirect(url_for("admin.edit_product", product_id=product.id), 303)
        except product_service.ProductError as exc:
            field = getattr(form, f"price_{exc.field}", None) or getattr(form, exc.field, None) or form.name
            field.errors = [*field.errors, str(exc)]
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
