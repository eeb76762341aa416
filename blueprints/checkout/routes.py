"""Checkout, the order page, retry, and return/cancel landings."""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from checkout.complete import checkout as run_checkout
from core import requestlog
from core.i18n import current_language
from core.money import format_money
from core.redirects import local_path
from delivery import options as delivery_service
from extensions import db, limiter
from models import Order, Payment
from orders.lifecycle import (
    CheckoutError,
    Customer,
    find_by_checkout_key,
    find_by_reference_and_phone,
    find_by_token,
)
from orders.timeline import timeline
from payments import pacing
from payments.attempts import (
    PaymentStartError,
    customer_cancelled,
    end_stale_attempts,
    find_payment,
    next_url,
    refresh_status,
    start_payment,
)
from payments.gateways import enabled_gateways
from shop import cart as cart_service
from shop import promos

from . import bp
from .forms import (
    CheckoutForm,
    EmptyForm,
    FindOrderForm,
    PromoForm,
    RetryForm,
    cash_choice,
    delivery_choices,
    gateway_choices,
)

RECENT_ORDERS = 10


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    """Customer details and payment method; on success, off to the gateway (303)."""
    placed = _already_placed()
    if placed is not None:
        return placed
    cart = cart_service.priced()
    if not cart.lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("shop.cart"), 303)
    saving, no_longer = promos.for_cart(cart)
    form = CheckoutForm(data=None if request.method == "POST" else _typed_before(), currency=cart.currency)
    options = delivery_service.options(cart.currency, cart.total)
    form.gateway.choices = gateway_choices(enabled_gateways(cart.currency)) + cash_choice(options, cart.total)
    form.delivery.choices = delivery_choices(options)
    if request.method == "GET":
        form.checkout_key.data = cart_service.checkout_key()
        if len(form.gateway.choices) == 1 and not form.gateway.data:
            form.gateway.data = form.gateway.choices[0].value  # the only method: preselected
        if options and not form.delivery.data:
            form.delivery.data = options[0].value  # the first, free pickup point when there is one
    if no_longer:  # the code stopped applying: say so and show the new price before taking any order
        flash(no_longer, "warning")
        if request.method == "POST":
            return _page(form, cart, options, None), 409
    valid = form.validate_on_submit()  # then the delivery, so that every error shows at once
    delivery = _delivery_of(form, cart, options) if request.method == "POST" else None
    if delivery is not None and valid and form.gateway.data == delivery_service.CASH:
        delivery = _cash_checked(form, cart, delivery)
    if not valid or delivery is None:
        return _page(form, cart, options, saving), 200 if request.method == "GET" else 400
    key = form.checkout_key.data
    if find_by_checkout_key(key) is None and key != session.get("checkout_key"):
        flash(_("Your cart changed since this page was opened: please check it and confirm again."), "warning")
        return redirect(url_for("checkout.checkout"), 303)
    customer = Customer(form.name.data.strip(), form.email.data.strip(), form.normalised_phone(),
                        current_language())
    session["customer"] = {"name": customer.name, "email": customer.email, "phone": customer.phone}
    try:
        result = run_checkout(cart, customer, form.gateway.data, key, delivery or None,
                              saving.code if saving else "")
    except CheckoutError as exc:
        flash(str(exc), "error")
        if saving is not None and promos.for_cart(cart)[1]:  # the code ran out meanwhile: said, and dropped
            saving = None
        return _page(form, cart, options, saving), 409
    except PaymentStartError as exc:
        flash(str(exc), "error")
        return _page(form, cart, options, saving), exc.http_status
    remember_order(result.order)
    if result.order.payment_method == delivery_service.CASH:
        cart_service.clear()  # placed, nothing to pay online: the order page says what to prepare
        return redirect(url_for("checkout.order", token=result.order.token), 303)
    if result.payment is not None and result.payment.redirect_url:
        cart_service.clear()
        promos.forget()
        return redirect(next_url(result.payment), 303)
    return redirect(url_for("checkout.order", token=result.order.token), 303)


@bp.post("/cart/promo")
def promo():
    """Apply a promo code to the cart (or remove it): the saving shows in the cart and at checkout."""
    form = PromoForm()
    back = local_path(request.form.get("next", "")) or url_for("shop.cart")
    if not form.validate_on_submit():
        flash(_("Type the code as you received it."), "error")
        return redirect(back, 303)
    if form.remove.data:
        promos.forget()
        flash(_("The code was removed."), "info")
        return redirect(back, 303)
    try:
        saving = promos.apply(form.code.data or "", cart_service.priced())
    except promos.PromoError as exc:
        flash(str(exc), "error")
        return redirect(back, 303)
    if saving.free_delivery:
        flash(_("Code %(code)s applied: delivery is free.", code=saving.code), "success")
    else:
        flash(_("Code %(code)s applied: you save %(amount)s.", code=saving.code,
                amount=format_money(saving.amount, cart_service.current_currency())), "success")
    return redirect(back, 303)


def _page(form, cart, options, saving):
    """The checkout page; ``pay(fee)`` is what the customer pays with a delivery fee (the code's saving off)."""
    return render_template("checkout/checkout.html", form=form, cart=cart, delivery_options=options,
                           saving=saving, promo_form=PromoForm(),
                           pay=lambda fee: cart.total + fee - (saving.discount(fee) if saving else 0))


def _typed_before() -> dict | None:
    """What the customer typed before switching language, else their last details."""
    return session.pop("checkout_draft", None) or session.get("customer")


def _delivery_of(form: CheckoutForm, cart, options):
    """The re-checked delivery (``False`` when the market offers none), or None with the
    reason under its field."""
    if not options:
        return False
    try:
        return delivery_service.choose(cart.currency, form.delivery.data, cart.total,
                                       form.delivery_city.data or "", form.delivery_address.data or "")
    except delivery_service.DeliveryError as exc:
        field = getattr(form, exc.field if exc.field == "delivery" else f"delivery_{exc.field}")
        field.errors = [*field.errors, str(exc)]
        return None


def _cash_checked(form: CheckoutForm, cart, delivery):
    """The server's re-check of cash on delivery / at pickup: the chosen delivery must take
    cash for this total; else None, with the reason under the payment choice."""
    try:
        delivery_service.check_cash(cart.currency, delivery or None, cart.total)
    except delivery_service.DeliveryError as exc:
        form.gateway.errors = [*form.gateway.errors, str(exc)]
        return None
    return delivery


def _already_placed():
    """A second submit of a checkout whose order is in flight or done: go where the
    first one went, whatever the cart holds now (double click, back button)."""
    order = find_by_checkout_key(request.form.get("checkout_key", "")[:64]) if request.method == "POST" else None
    if order is not None:
        end_stale_attempts(order)  # an attempt left by a request that stopped does not block it
    if order is not None and order.payment_method == delivery_service.CASH:
        return redirect(url_for("checkout.order", token=order.token), 303)  # placed already, no gateway
    if order is None or (order.can_retry and order.active_payment is None):
        return None
    payment = order.active_payment
    if payment is not None:
        return redirect(next_url(payment), 303)
    return redirect(url_for("checkout.order", token=order.token), 303)


def remember_order(order: Order) -> None:
    """Keep the order reachable from this browser's "My orders"."""
    tokens = [t for t in session.get("orders", []) if t != order.token]
    session["orders"] = [order.token, *tokens][:RECENT_ORDERS]


def _order_or_404(token: str) -> Order:
    if len(token) > 64:
        abort(404)
    return find_by_token(token) or abort(404)


@bp.get("/orders/<token>")
def order(token: str):
    """The order as our database knows it; re-checks an open payment (rate-bounded)."""
    item = _order_or_404(token)
    requestlog.tag(order=item.reference)
    if item.status == "pending":
        end_stale_attempts(item)  # so that a dead attempt's order offers "pay" again
    if item.status == "pending" and item.active_payment is not None:
        refresh_status(item.active_payment)
    remember_order(item)
    retry_form = RetryForm()
    retry_form.gateway.choices = gateway_choices(enabled_gateways(item.currency))
    if item.payments and retry_form.gateway.data is None:
        retry_form.gateway.data = item.payments[-1].gateway  # same method preselected
    return render_template("checkout/order.html", order=item, retry_form=retry_form,
                           abandon_form=EmptyForm(), timeline=timeline(item))


@bp.get("/orders/<token>/status.json")
def order_status(token: str):
    """The waiting page's poll: the order's status, after the same rate-bounded re-check."""
    item = _order_or_404(token)
    payment = item.active_payment
    if item.status == "pending" and payment is not None:
        try:
            refresh_status(payment)
        except Exception:  # the poll answers from the database whatever the gateway did
            db.session.rollback()
            current_app.logger.exception("status poll: re-check of %s failed", payment.reference)
    last = item.payments[-1] if item.payments else None
    response = jsonify(status=item.status, payment_status=last.status if last else None,
                       changed_at=item.updated_at.isoformat() if item.updated_at else None)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/orders/<token>/abandon")
def abandon(token: str):
    """"Pay another way": end the open attempt once the gateway confirms nothing was paid."""
    item = _order_or_404(token)
    payment = item.active_payment
    if EmptyForm().validate_on_submit() and payment is not None:
        customer_cancelled(payment, note="customer chose to pay another way")
        if payment.status == "cancelled":
            flash(_("That payment attempt is closed. Choose how you want to pay."), "info")
        elif payment.status in Payment.ACTIVE and payment.amount_received:
            flash(_("%(received)s of %(total)s has already arrived on this payment, so it was not "
                    "cancelled. The shop has been told and will contact you about the %(left)s left.",
                    received=format_money(payment.amount_received, payment.currency),
                    total=format_money(payment.amount, payment.currency),
                    left=format_money(payment.amount - payment.amount_received, payment.currency)),
                  "warning")
        elif payment.status == "succeeded":
            flash(_("That payment went through after all: your order is paid."), "success")
        else:
            flash(_("We could not confirm with the payment provider yet; please try again in a moment."), "warning")
    return redirect(url_for("checkout.order", token=token), 303)


@bp.post("/orders/<token>/pay")
def retry(token: str):
    """A new payment attempt on the same order (after a failure or cancellation)."""
    item = _order_or_404(token)
    form = RetryForm()
    form.gateway.choices = gateway_choices(enabled_gateways(item.currency))
    end_stale_attempts(item)
    if item.status == "pending" and item.active_payment is not None:
        return redirect(next_url(item.active_payment), 303)  # a double-tap: the first attempt goes on
    if not item.can_retry:
        flash(_("This order cannot be paid again."), "info")
    elif not form.validate_on_submit():
        flash(_("Choose a payment method."), "error")
    else:
        try:
            payment = start_payment(item, form.gateway.data)
            return redirect(next_url(payment), 303)
        except PaymentStartError as exc:
            flash(str(exc), "error")
    return redirect(url_for("checkout.order", token=token), 303)


def _landing_payment(item: Order):
    payment = find_payment(request.args.get("ref", "")[:40])
    return payment if payment is not None and payment.order_id == item.id else None


@bp.get("/orders/<token>/return")
def order_return(token: str):
    """Where the gateway sends the browser back: a hint, so we ask the gateway."""
    item = _order_or_404(token)
    payment = _landing_payment(item)
    if payment is not None and payment.status in Payment.ACTIVE:
        refresh_status(payment, force=True, kind="return", note="customer came back (return URL)",
                       wait=pacing.RETURN_WAIT_SECONDS)
    return redirect(url_for("checkout.order", token=token), 303)


@bp.get("/orders/<token>/cancel")
def order_cancel(token: str):
    """The customer cancelled at the gateway: confirm nothing was paid, offer a retry."""
    item = _order_or_404(token)
    payment = _landing_payment(item)
    if payment is not None and payment.status in Payment.ACTIVE:
        customer_cancelled(payment)
        if payment.status == "cancelled":
            flash(_("You cancelled the payment. Nothing was charged; you can try again."), "info")
    return redirect(url_for("checkout.order", token=token), 303)


def _find_limit() -> str:
    return current_app.config["FIND_ORDER_RATE_LIMIT"]


@bp.route("/orders/find", methods=["GET", "POST"])
@limiter.limit(_find_limit, methods=["POST"],
               error_message=lambda: _("Too many tries. Wait a few minutes, then try again."))
def find_order():
    """"Find my order": order number + phone → the order page. The same answer for a wrong
    number and a wrong phone (nothing tells which orders exist); tries are rate-limited."""
    form = FindOrderForm()
    if form.validate_on_submit():
        found = find_by_reference_and_phone(form.reference.data or "", form.phone.data or "")
        if found is not None:
            remember_order(found)
            return redirect(url_for("checkout.order", token=found.token), 303)
        form.reference.errors = [_("We found no order with this number and phone. Check both: the "
                                   "number is in your confirmation e-mail or SMS.")]
        return render_template("checkout/find_order.html", form=form), 200
    return render_template("checkout/find_order.html", form=form), 400 if request.method == "POST" else 200


@bp.get("/orders")
def my_orders():
    """Orders placed from this browser, newest first."""
    orders = [o for o in (find_by_token(t) for t in session.get("orders", [])) if o is not None]
    return render_template("checkout/orders.html", orders=orders)


@bp.app_context_processor
def delivery_helpers():
    """What the cart and checkout templates need to speak about delivery."""
    return {"delivery_teaser": _delivery_teaser, "delivery_delay": _delivery_delay}


def _delivery_teaser(currency: str, items_total: int) -> dict:
    return {"pickup": bool(delivery_service.active_points(currency)),
            "home": delivery_service.cheapest_fee(currency, items_total)}


def _delivery_delay(low: int, high: int) -> str:
    if high <= 1:
        return _("next day") if low == 1 or high == 1 else _("same day")
    if low == high:
        return _("%(num)d days", num=high)
    return _("%(low)d to %(high)d days", low=low, high=high)
