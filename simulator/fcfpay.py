"""Simulated FCFPay: create-order, check-order(s), a hosted page taking crypto in parts.

Wire formats follow ``docs/gateways/fcfpay.md``: a
``{"success", "data", "message"}`` envelope, Bearer authentication, one deposit
callback per transaction to the project's URL (``PUBLIC_BASE_URL`` +
``/payments/callback/fcfpay``) carrying only ``order_id``, and ``txs`` with crypto
amounts as integer strings beside ``decimal`` and fiat amounts as decimal strings.

Crypto is converted at a market rate: each deposit's fiat value comes out a little
under what the customer meant to send (the ``rate_slippage_bp`` fault, 25 basis
points by default), as FCFPay's does. The seed's ``create-invoice`` (seed 002) is
served too, with its numeric ``amount`` (``30``); it has no ``order_id``, so its
invoice is keyed by ``invoice_number`` (how FCFPay maps it is undocumented).
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from flask import current_app, jsonify, redirect, render_template, request

from . import SIM_CREDENTIALS, bp
from .delivery import deliver
from .state import STATE, SimInvoice, hang, status_fault

NAME = "fcfpay"
API = "/fcfpay/api/v2/"
CURRENCIES = {"USD": 2, "EUR": 2}
#: Coins offered on the page: smallest-unit decimals and a fixed USD rate.
COINS = {
    "BTC": (8, Decimal("60000")),
    "ETH": (18, Decimal("3000")),
    "USDT": (6, Decimal("1")),
    "BSC": (18, Decimal("300")),
}
EUR_IN_USD = Decimal("1.08")
AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
REQUIRED = ("domain", "order_id", "amount", "currency_name", "redirect_url")
#: create-invoice's required fields (seed 002's request-body table).
INVOICE_REQUIRED = ("name", "amount", "description")


@dataclass
class FcfOrder(SimInvoice):
    """An FCFPay order and the crypto transactions deposited on it."""

    txs: list[dict] = field(default_factory=list)

    @property
    def received(self) -> int:
        """Deposited fiat value, in minor units."""
        return sum(_minor(tx["fiat_amount"]) for tx in self.txs if tx["deposited"])

    @property
    def remaining(self) -> int:
        return max(self.amount - self.received, 0)


def _envelope(success: bool, message: str, data=None, status: int = 200):
    return jsonify(success=success, data=[] if data is None else data, message=message), status


def _fail(message: str, status: int = 422):
    return _envelope(False, message, status=status)


def _authorised() -> bool:
    return request.headers.get("Authorization") == f"Bearer {SIM_CREDENTIALS[NAME]['api_key']}"


def _minor(text: str) -> int:
    return int(Decimal(text).scaleb(2))


def _major(amount: int) -> str:
    return str(Decimal(amount).scaleb(-2))


def _find(order_id: str) -> FcfOrder | None:
    return next((o for o in list(STATE.invoices.values())
                 if isinstance(o, FcfOrder) and o.reference == order_id), None)


def _is_date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


def amount_of(value) -> Decimal | None:
    """The order amount: a decimal string (``"100.05"``) or a number (seed 002 sends ``30``)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value) if not isinstance(value, float) else repr(value)
    if not AMOUNT.match(text) or Decimal(text) <= 0:
        return None
    return Decimal(text)


def checked_amount(value) -> Decimal:
    """The amount of a body that ``_refuse_body`` accepted."""
    amount = amount_of(value)
    if amount is None:
        raise ValueError("the amount was not checked first")
    return amount


def _refuse_body(body, required, label) -> str | None:
    """What both create calls check first: a JSON object, every ``required`` field (named in
    the message by ``label(name)``), a decimal amount."""
    if not isinstance(body, dict):
        return "Invalid JSON body."
    for name in required:
        if body.get(name) is None or str(body[name]).strip() == "":
            return f"The {label(name)} field is required."
    if amount_of(body["amount"]) is None:
        return "The amount must be a decimal, such as \"100.05\"."
    return None


def validate_create(body) -> str | None:
    """FCFPay's message refusing ``body``, or None when it is acceptable."""
    refused = _refuse_body(body, REQUIRED, lambda name: name.replace("_", " "))
    if refused:
        return refused
    if not all(isinstance(body[name], str) for name in REQUIRED if name != "amount"):
        return "The domain, order id, currency name and redirect url must be strings."
    if body["currency_name"] not in CURRENCIES:
        return "Currency not supported."
    if not body["redirect_url"].startswith(("http://", "https://")):
        return "The redirect url must be a valid URL."
    if "order_date" in body and not _is_date(body["order_date"]):
        return "The order date does not match the format Y-m-d."
    if len(body["order_id"]) > 64:
        return "The order id may not be greater than 64 characters."
    return validate_items(body.get("items"), checked_amount(body["amount"]))


def validate_invoice(body) -> str | None:
    """FCFPay's message refusing a create-invoice ``body`` (seed 002), or None."""
    refused = _refuse_body(body, INVOICE_REQUIRED, str)
    if refused:
        return refused
    if body.get("currency_name", "USD") not in CURRENCIES:
        return "Currency not supported."
    return validate_items(body.get("items"), checked_amount(body["amount"]))


def validate_items(items, amount: Decimal) -> str | None:
    """Items are optional; when given, each is readable and together they make the amount."""
    if items is None:
        return None
    if not isinstance(items, dict):
        return "The items must be a JSON object."
    total = Decimal(0)
    for item in items.values():
        line = _item_total(item)
        if line is None:
            return "Each item needs a name, a quantity and a price."
        total += line
    if items and total != amount:
        return "The items do not add up to the amount."
    return None


def _item_total(item) -> Decimal | None:
    """One item's total, accepting create-order's keys and the seed's create-invoice keys."""
    if not isinstance(item, dict):
        return None
    name = item.get("Item Name", item.get("name"))
    quantity = str(item.get("Quantity", "1"))
    try:
        price = Decimal(str(item.get("Price", item.get("price"))))
        total = Decimal(str(item.get("Total", price * int(quantity or "x"))))
    except (InvalidOperation, ValueError):
        return None
    if not isinstance(name, str) or not quantity.isdigit() or int(quantity) < 1:
        return None
    return total if total == price * int(quantity) else None


@bp.post(API + "create-order")
def fcfpay_create_order():
    """``POST /api/v2/create-order`` as FCFPay answers it."""
    faults = STATE.faults_for(NAME)
    if faults["create"] == "hang":
        return hang()
    if faults["create"] == "http500":
        return "Internal Server Error", 500
    if not _authorised():
        return _fail("Merchant Authentication problem!", 401)
    body = request.get_json(silent=True)
    problem = validate_create(body)
    if problem:
        return _fail(problem)
    if _find(body["order_id"]) is not None:
        return _fail("The order id has already been taken.")
    if faults["create"] == "refuse":
        return _fail("Your project is not active. Please contact FCF Pay support.", 403)
    order = _store(body)
    if faults["create"] == "timeout":
        # The order exists, but the answer comes too late for the shop to see it.
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    link = request.host_url.rstrip("/") + order.page_path
    return _envelope(True, "Order successfully created. Waiting for the payment.",
                     {"checkout_page_url": link, "payment_status": "waiting"})


@bp.post(API + "create-invoice")
def fcfpay_create_invoice():
    """``POST /api/v2/create-invoice`` as seed 002 documents it: only a checkout URL comes back."""
    if STATE.faults_for(NAME)["create"] == "http500":
        return "Internal Server Error", 500
    if not _authorised():
        return _fail("Merchant Authentication problem!", 401)
    body = request.get_json(silent=True)
    problem = validate_invoice(body)
    if problem:
        return _fail(problem)
    number = str(body.get("invoice_number") or "INV-" + secrets.token_hex(6))[:64]
    if _find(number) is not None:
        return _fail("The invoice number has already been taken.")
    order = _store({**body, "order_id": number, "currency_name": body.get("currency_name", "USD"),
                    "redirect_url": ""})
    link = request.host_url.rstrip("/") + order.page_path
    return _envelope(True, "Invoice successfully created. Waiting for the payment.",
                     {"checkout_page_url": link, "payment_status": "waiting"})


def _store(body: dict) -> FcfOrder:
    token = "JDJ5JDEw" + secrets.token_urlsafe(32)
    return STATE.add(FcfOrder(
        gateway=NAME,
        token=token,
        page_path=f"/_sim/fcfpay/pay/{token}",
        reference=body["order_id"],
        amount=int(checked_amount(body["amount"]).scaleb(2)),
        currency=body["currency_name"],
        request=body,
        status="waiting",
        return_url=body["redirect_url"],
    ))


@bp.post(API + "check-order")
def fcfpay_check_order():
    """``POST /api/v2/check-order {"order_id"}``: the order and all its transactions."""
    fault = status_fault(NAME)
    if fault:
        return fault
    if not _authorised():
        return _fail("Merchant Authentication problem!", 401)
    body = request.get_json(silent=True)
    order_id = body.get("order_id") if isinstance(body, dict) else None
    if not isinstance(order_id, str) or not order_id:
        return _fail("The order id field is required.")
    order = _find(order_id)
    if order is None:
        return _fail("Order not found.", 404)
    return _envelope(True, "Successfully fetched.", order_payload(order))


@bp.post(API + "check-orders")
def fcfpay_check_orders():
    """``POST /api/v2/check-orders {"order_ids": [...]}``: unknown ids are left out."""
    fault = status_fault(NAME)
    if fault:
        return fault
    if not _authorised():
        return _fail("Merchant Authentication problem!", 401)
    body = request.get_json(silent=True)
    ids = body.get("order_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return _fail("The order ids field is required.")
    found = {i: _find(i) for i in ids[:100]}
    data = {i: order_payload(o) for i, o in found.items() if o is not None}
    return _envelope(True, "Successfully fetched.", data)


def order_payload(order: FcfOrder) -> dict:
    """One order as check-order shows it (``total_fiat_amount`` is the number 0 until paid)."""
    received = order.received
    return {
        "order_id": order.reference,
        "user_id": str(order.request.get("user_id", "1")),
        "order_amount": _major(order.amount + STATE.faults_for(NAME)["amount_delta"]),
        "total_fiat_amount": _major(received) if received else 0,
        "fiat_currency": order.currency,
        "txs": list(order.txs),
    }


def new_transaction(order: FcfOrder, fiat: int, coin: str) -> dict:
    """A confirmed deposit of the crypto quoted for ``fiat`` minor units, paid in ``coin``.

    By the time it is converted the market rate has moved: its fiat value is ``fiat`` less
    the ``rate_slippage_bp`` fault (basis points), rounded down to the cent.
    """
    decimals, usd_rate = COINS[coin]
    usd = Decimal(fiat).scaleb(-2) * (EUR_IN_USD if order.currency == "EUR" else 1)
    crypto = (usd / usd_rate).scaleb(decimals).to_integral_value(rounding=ROUND_DOWN)
    slippage = Decimal(STATE.faults_for(NAME)["rate_slippage_bp"]).scaleb(-4)
    fiat = int((Decimal(fiat) * (1 - slippage)).to_integral_value(rounding=ROUND_DOWN))
    usd = (usd * (1 - slippage))
    return {
        "deposited": True,
        "txid": "0x" + secrets.token_hex(32),
        "confirm_blocks": 24,
        "status": "deposited",
        "amount_usd": str(usd.quantize(Decimal("0.01"))),
        "fiat_amount": _major(fiat),
        "fiat_currency": order.currency,
        "amount": str(crypto),
        "currency": coin,
        "fees": str(crypto // 1000),
        "decimal": decimals,
        "fee_decimal": decimals,
        "date": datetime.now(timezone.utc).strftime("%b %d %Y %H:%M:%S"),
    }


def _deposit_amount(order: FcfOrder) -> tuple[int | None, str | None]:
    """The fiat amount the customer chose to send, in minor units, or an error."""
    if request.form.get("action") == "pay":
        return order.remaining or order.amount, None
    raw = request.form.get("amount", "").strip().replace(",", ".")
    if not AMOUNT.match(raw) or Decimal(raw) <= 0:
        return None, "Enter an amount such as 12.50."
    return _minor(raw), None


def _page(order: FcfOrder, error: str | None = None, status: int = 200):
    return render_template("simulator/fcfpay_pay.html", order=order, coins=COINS,
                           major=_major, error=error), status


@bp.route("/fcfpay/pay/<token>", methods=["GET", "POST"])
def fcfpay_page(token: str):
    """FCFPay's hosted checkout: send the whole amount or part of it, as often as needed."""
    order = STATE.get(token)
    if not isinstance(order, FcfOrder):
        return render_template("simulator/unknown.html"), 404
    if request.method == "GET" or order.remaining == 0:
        return _page(order)
    if request.form.get("action") == "back":
        return redirect(order.return_url, 303)
    coin = request.form.get("coin", "USDT")
    fiat, error = _deposit_amount(order)
    if error or fiat is None or coin not in COINS:  # no amount always comes with its error
        return _page(order, error or "Choose a coin.", 400)
    order.txs.append(new_transaction(order, fiat, coin))
    order.status = "paid" if order.remaining == 0 else "partially paid"
    _notify(order)
    # Sending the whole quoted amount ends the customer's visit, even if the rate moved.
    if (order.remaining == 0 or request.form.get("action") == "pay") and order.return_url:
        return redirect(order.return_url, 303)
    return redirect(order.page_path, 303)


def _notify(order: FcfOrder) -> None:
    """The deposit callback, to the one URL set in the project (never per order)."""
    faults = STATE.faults_for(NAME)
    if faults["callbacks"] == "none":
        return
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/payments/callback/fcfpay"
    order.callback_url = url
    payload = {"success": True, "data": {"type": "deposit", "order_id": order.reference},
               "message": "Payment Received"}
    deliver(order, url, [{"json": payload}], delay=faults["callback_delay"])
