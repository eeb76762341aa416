"""Catalogue, product pages, market selector and cart."""
from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh

from blueprints.checkout.forms import PromoForm
from core import phones
from core.i18n import LANGUAGES, current_language, format_when
from core.money import to_major
from core.redirects import local_path
from core.urls import external_url
from orders.lifecycle import find_by_token
from shop import cart as cart_service
from shop import catalog, promos

from . import bp
from .forms import (
    AddToCartForm,
    LanguageForm,
    MarketForm,
    RemoveFromCartForm,
    UpdateCartForm,
    market_name,
    product_id_of,
    variant_id_of,
)

#: No catalogue has this many pages; a larger number would overflow the database's OFFSET.
MAX_PAGE = 100_000


@bp.app_context_processor
def language_context() -> dict:
    """What every page needs to speak the customer's language (``<html lang>``, the switcher)."""
    return {"current_language": current_language(), "languages": LANGUAGES, "market_name": market_name,
            "when": format_when, "phone_example": phones.example, "phone_display": phones.display,
            "whatsapp_share": lambda text: phones.whatsapp_url("", text), "external_url": external_url,
            "major_units": lambda amount, currency: str(to_major(amount, currency))}


@bp.get("/")
def index():
    """The catalogue, optionally filtered by category (``?category=``) or search (``?q=``)."""
    category = None
    if request.args.get("category"):
        category = catalog.category_by_slug(request.args["category"]) or abort(404)
    query = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)
    if page > MAX_PAGE:
        abort(404)
    etag = catalog.page_etag()
    if etag and etag in request.if_none_match:
        return _not_modified(etag)

    def render() -> str:
        currency, language = cart_service.current_currency(), current_language()
        pagination = catalog.grid(currency, language, category, query, max(page or 1, 1))
        missed = bool(query.strip()) and not pagination.items and pagination.page == 1
        return render_template("shop/index.html", products=pagination.items, pagination=pagination,
                               category=category, query=query,
                               suggestions=catalog.suggestions(currency, language, query) if missed else ())

    return _revalidated(catalog.cached_page(render))


def _not_modified(etag: str):
    """304: the browser's copy is what we would render (catalogue pages only, see page_etag)."""
    response = make_response("", 304)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _revalidated(body: str):
    """A catalogue page the browser may keep and revalidate with If-None-Match."""
    response = make_response(body)
    etag = catalog.page_etag()  # after rendering: the session has its CSRF secret now
    if etag:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
    return response


@bp.get("/products/<slug>")
def product(slug: str):
    """One product: description, price in the market's currency, stock."""
    item = catalog.product_view(slug) or abort(404)
    chosen = None
    if "variant" in request.args:  # a combination picked (its own link, or the form without JavaScript)
        raw = request.args.get("variant", "")
        chosen = item.variant(int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if chosen is None or len(request.args) > 1:  # one page per real variant: nothing else is cached
            return redirect(url_for("shop.product", slug=slug, variant=chosen.id if chosen else None), 301)
    etag = catalog.page_etag()
    if etag and etag in request.if_none_match:
        return _not_modified(etag)
    currency = cart_service.current_currency()
    if chosen is None and item.variants:  # the first combination in stock, else the first
        chosen = next((v for v in item.variants if v.stock > 0), item.variants[0])

    def render() -> str:
        price = item.variant_price(chosen, currency) if chosen else item.selling_price(currency)
        return render_template("shop/product.html", product=item, chosen=chosen, price=price,
                               form=AddToCartForm(product_id=item.id, variant_id=chosen.id if chosen else None))

    return _revalidated(catalog.cached_page(render))


@bp.post("/market")
def market():
    """Switch market: prices, cart and gateways follow its currency."""
    form = MarketForm()
    if form.validate_on_submit():
        session["currency"] = form.currency.data
        cart_service.reset_checkout_key()
        flash(_("Prices are now shown in %(currency)s.", currency=form.currency.data), "info")
    else:
        flash(_("Unknown market."), "error")
    return redirect(_back(), 303)


#: The merchant's pages (dashboard → Shop settings): path → field of models.ShopSettings.
SHOP_PAGES = {"about": "about", "returns": "returns_policy", "terms": "terms"}


@bp.get("/<any(about, returns, terms):page>")
def shop_page(page: str):
    """About us, returns, terms of sale: as the merchant wrote them; a 404 until they do."""
    text = catalog.identity().page(SHOP_PAGES[page])
    if not text:
        abort(404)
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render_template("shop/page.html", page=page, paragraphs=paragraphs)


@bp.post("/language")
def language():
    """Switch the shop's language; the choice is remembered for this browser."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        _keep_checkout_draft()
        refresh()  # this request's flash is already in the new language
        flash(_("The shop is now in English."), "info")
    else:
        flash(_("Unknown language."), "error")
    return redirect(_back(), 303)


#: What the checkout form carries into the language switch (its buttons submit that form).
DRAFT_FIELDS = {"name": 120, "email": 254, "phone": 40, "gateway": 40}


def _keep_checkout_draft() -> None:
    """Keep what the customer typed at checkout for the page in the new language."""
    draft = {key: request.form.get(key, "")[:size] for key, size in DRAFT_FIELDS.items()}
    if any(draft.values()):
        session["checkout_draft"] = draft


def _back() -> str:
    """Where to send the customer back to: a local page only."""
    return local_path(request.form.get("next") or request.args.get("next", "")) or url_for("shop.index")


@bp.get("/cart")
def cart():
    """The cart, priced from the database."""
    priced = cart_service.priced(pictures=True)  # the lines' thumbnails
    for notice in priced.notices:
        flash(notice, "warning")
    saving, no_longer = promos.for_cart(priced)
    if no_longer:
        flash(no_longer, "warning")
    return render_template("shop/cart.html", cart=priced, update_form=UpdateCartForm(),
                           remove_form=RemoveFromCartForm(), waiting=_waiting_order(), saving=saving,
                           promo_form=PromoForm())


def _waiting_order():
    """This browser's newest order still waiting for payment (back from the gateway)."""
    for token in session.get("orders", [])[:3]:
        order = find_by_token(token)
        if order is not None and order.status == "pending":
            return order
    return None


@bp.post("/cart/add")
def cart_add():
    """Add a product to the cart."""
    form = AddToCartForm()
    product_id = product_id_of(form)
    if not form.validate_on_submit() or product_id is None:
        flash(_("Choose a quantity between 1 and the stock available."), "error")
        return redirect(_back(), 303)
    try:
        item = cart_service.add(product_id, form.quantity.data, variant_id_of(form))
    except cart_service.CartError as exc:
        flash(str(exc), "error")
        return redirect(_back(), 303)
    flash(_("%(name)s added to your cart.", name=cart_service.display_name(item)), "success")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/update")
def cart_update():
    """Change a cart line's quantity (zero removes it)."""
    form = UpdateCartForm()
    line = cart_service.line_id(product_id_of(form), variant_id_of(form))
    if not form.validate_on_submit() or line is None:
        flash(_("Quantities are whole numbers from 0 up."), "error")
        return redirect(url_for("shop.cart"), 303)
    try:
        cart_service.set_quantity(line, form.quantity.data)
    except cart_service.CartError as exc:
        flash(str(exc), "error")
    return redirect(url_for("shop.cart"), 303)


@bp.post("/cart/remove")
def cart_remove():
    """Remove a line from the cart."""
    form = RemoveFromCartForm()
    line = cart_service.line_id(product_id_of(form), variant_id_of(form))
    if form.validate_on_submit() and line is not None:
        cart_service.remove(line)
    return redirect(url_for("shop.cart"), 303)
