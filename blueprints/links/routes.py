"""The customer's link page and the merchant's links pages."""
from __future__ import annotations

from email.utils import parseaddr

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.admin import routes as admin_routes
from blueprints.checkout.forms import gateway_choices
from blueprints.checkout.routes import remember_order
from core.i18n import LANGUAGES
from extensions import db
from links import payment_links as link_service
from models import Product
from orders.lifecycle import Customer
from orders.states import LinkStatus, OrderStatus
from payments.attempts import PaymentStartError, end_stale_attempts, next_url, start_payment
from payments.gateways import enabled_gateways

from . import admin_bp, bp
from .forms import LinkForm, PayLinkForm

STATUSES = [s.value for s in LinkStatus]


# the customer

def _link_or_404(code: str):
    return link_service.find(code) or abort(404)


def _language(link) -> str:
    """The customer's language: their own choice in this browser, else the one the merchant
    gave the link (kept, so the order page and the gateway follow it)."""
    chosen = session.get("language")
    if chosen not in LANGUAGES:
        chosen = link.order.language if link.order.language in LANGUAGES else "fr"
        session["language"] = chosen
    return chosen


@bp.route("/p/<code>", methods=["GET", "POST"])
def pay(code: str):
    """The link's page: the merchant, the lines, the total; the customer's details and
    gateway; then the same payment machinery as a checkout (303 to the gateway)."""
    link = link_service.catch_up(_link_or_404(code))
    with force_locale(_language(link)):
        return _pay(link)


def _pay(link):
    order = link.order
    if link.status == LinkStatus.PAID or order.status in (OrderStatus.PAID, OrderStatus.REFUNDED):
        remember_order(order)
        return redirect(url_for("checkout.order", token=order.token), 303)
    if link.status != LinkStatus.OPEN or order.status != OrderStatus.PENDING:
        contact = parseaddr(current_app.config.get("MAIL_FROM", ""))[1]
        return render_template("links/closed.html", link=link, order=order, contact=contact), 410
    end_stale_attempts(order)
    if order.active_payment is not None:  # an attempt in flight: a double submit goes where the
        remember_order(order)             # first went; a visit, to the order page that follows it
        if request.method == "POST":
            return redirect(next_url(order.active_payment), 303)
        return redirect(url_for("checkout.order", token=order.token), 303)
    form = PayLinkForm(currency=order.currency)
    form.gateway.choices = gateway_choices(enabled_gateways(order.currency))
    if request.method == "GET":
        if len(form.gateway.choices) == 1:
            form.gateway.data = form.gateway.choices[0].value  # the only method: preselected
        form.name.data = form.name.data or order.customer_name or None
        form.email.data = form.email.data or order.customer_email or None
        form.phone.data = form.phone.data or order.customer_phone or None
    if not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return render_template("links/pay.html", link=link, order=order, form=form), status
    customer = Customer(form.name.data.strip(), form.email.data.strip(), form.phone_e164,
                        session.get("language", order.language))
    link_service.set_customer(link, customer)
    remember_order(order)
    try:
        payment = start_payment(order, form.gateway.data)
    except PaymentStartError as exc:
        flash(str(exc), "error")
        return render_template("links/pay.html", link=link, order=order, form=form), exc.http_status
    return redirect(next_url(payment), 303)


# the merchant

# The dashboard's own guards: signed-in merchants only, nothing kept by browsers or proxies.
admin_bp.before_request(admin_routes.require_login)
admin_bp.after_request(admin_routes.no_store)


@admin_bp.context_processor
def admin_context():
    from blueprints.admin.forms import EmptyForm

    return {"empty_form": EmptyForm()}


def _admin_link_or_404(code: str):
    link = link_service.find(code) or abort(404)
    return link_service.catch_up(link)


@admin_bp.get("/")
def index():
    """Every link, newest first: open, paid, expired, cancelled, with the order behind it."""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and len(raw) <= 6 and 0 < int(raw) < 100_000 else 1
    links, total = link_service.page(status, page)
    return render_template("admin/links.html", links=links, total=total, status=status, page=page,
                           statuses=STATUSES, per_page=50)


def _products():
    return list(db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.name)
                                   .options(selectinload(Product.options), selectinload(Product.variants))))


@admin_bp.route("/new", methods=["GET", "POST"])
def new():
    """New payment link: market, products and free lines, customer, note, expiry."""
    form = LinkForm(products=_products())
    form.set_delivery_choices(form.currency.data or "XOF")
    if form.validate_on_submit():
        try:
            link = link_service.create_link(form.link_request(), actor=current_user.email)
            flash("Payment link created: send it to your customer.", "success")
            return redirect(url_for("admin_links.show", code=link.code), 303)
        except link_service.LinkError as exc:
            form.form_errors.append(str(exc))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/link_form.html", form=form), status


@admin_bp.get("/<code>")
def show(code: str):
    """One link: its address, QR code, WhatsApp button, copy button, and its order."""
    link = _admin_link_or_404(code)
    return render_template("admin/link.html", link=link, order=link.order,
                           url=link_service.public_url(link), whatsapp=link_service.whatsapp_url(link),
                           message=link_service.share_message(link))


@admin_bp.get("/<code>/qr.svg")
def qr(code: str):
    """The link's QR code (SVG)."""
    link = link_service.find(code) or abort(404)
    return Response(link_service.qr_svg(link), mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="link-{link.code}.svg"'})


@admin_bp.post("/<code>/cancel")
def cancel(code: str):
    """Cancel an open link: its order is cancelled and its stock goes back on sale."""
    from blueprints.admin.forms import EmptyForm

    link = _admin_link_or_404(code)
    if not EmptyForm().validate_on_submit():
        flash("The form expired: try again.", "error")
    elif link_service.cancel_link(link, actor=current_user.email):
        flash("Link cancelled; its order is cancelled and its stock is back on sale.", "success")
    else:
        flash(f"This link is {link.status}: it cannot be cancelled.", "error")
    return redirect(url_for("admin_links.show", code=code), 303)
