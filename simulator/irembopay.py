"""Simulated IremboPay: create and get invoice, hosted checkout, signed notifications.

Wire formats follow seed 001 and ``docs/gateways/irembopay.md``:
answers wrap ``data`` in ``{success, message, data}``; refusals are
``{success: false, message, errors: [{code, detail}]}``. The hosted page never
sends the browser back (IremboPay has no return URL); the payment notification
goes to the one callback URL a merchant registers in the portal.

Simulator's stand-ins for portal resources: the payment accounts in ``ACCOUNTS``;
product codes are those starting with ``PC-`` (any other code is PRODUCT_NOT_FOUND).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import requests
from flask import Response, current_app, render_template, request

from . import SIM_CREDENTIALS, bp
from .state import STATE, SimInvoice, hang, status_fault

NAME = "irembopay"
API_VERSION = "2"
#: Payment accounts of the simulated merchant and the currency each one sets.
ACCOUNTS = {"SIM-RWF-ACCOUNT": "RWF", "SIM-USD-ACCOUNT": "USD",
            "SIM-EUR-ACCOUNT": "EUR", "SIM-GBP-ACCOUNT": "GBP"}
PRODUCT_PREFIX = "PC-"
DECIMALS = {"RWF": 0, "USD": 2, "EUR": 2, "GBP": 2}
LANGUAGES = {"FR", "EN", "RW"}
#: The shop's callback URL as the merchant registers it in IremboPay's portal.
CALLBACK_PATH = "/payments/callback/irembopay"
KIGALI = timezone(timedelta(hours=2))
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^(?:\+?250|0)?(7[2389]\d{7})$")
#: The official examples' string form of customer.phoneNumber: 07XXXXXXXX, nothing else.
EXAMPLE_PHONE = re.compile(r"^07[2389]\d{7}$")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?([+-]\d\d:\d\d|Z)$")
#: Sandbox test numbers and cards that fail (as third-party guides list them).
FAILING = {"0780123456", "0730123456", "5198960229857244"}
METHODS = {"MTN_MOMO": "MTN MoMo", "AIRTEL_MONEY": "Airtel Money", "ONLINE_CARD": "Card"}
TIMEOUT = 10


def _refuse(code: str, detail: str, status: int = 400) -> Response:
    return _json({"success": False, "message": detail, "errors": [{"code": code, "detail": detail}]}, status)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, default=_number), status, mimetype="application/json")


def _number(value):
    """Decimals as JSON numbers (IremboPay's amounts are doubles)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _auth_problem() -> Response | None:
    """IremboPay's answer to a bad secret key or API version, or None."""
    if not hmac.compare_digest(request.headers.get("irembopay-secretKey", ""),
                               SIM_CREDENTIALS[NAME]["secret_key"]):
        return _refuse("AUTHENTICATION_FAILED", "Invalid IremboPay secret key", 401)
    if request.headers.get("X-API-Version") != API_VERSION:
        # Undocumented: the simulator only speaks v2 and names the problem this way.
        return _refuse("BAD_API_VERSION", "Unsupported X-API-Version (the simulator speaks 2)")
    return None


def _amount(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return Decimal(value)


def _bad_item(entry, currency: str | None) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("code"), str) or not entry["code"]:
        return True
    quantity, unit = entry.get("quantity"), _amount(entry.get("unitAmount"))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        return True
    if unit is None or unit < 0:
        return True
    return currency is not None and unit != round(unit, DECIMALS[currency])


def _bad_expiry(value) -> bool:
    if value is None:
        return False
    if not isinstance(value, str) or not DATE.match(value):
        return True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment <= datetime.now(timezone.utc)


def _bad_customer(value) -> bool:
    if value is None:
        return False
    if not isinstance(value, dict):
        return True
    email, phone, name = value.get("email"), value.get("phoneNumber"), value.get("name")
    if email is not None and not (isinstance(email, str) and EMAIL.match(email)):
        return True
    # Seed 001's table: phoneNumber is an Integer; the official examples send "07XXXXXXXX" (a
    # leading 0 no JSON integer keeps). Both are taken; any other shape or type is refused.
    as_integer = isinstance(phone, int) and not isinstance(phone, bool) and PHONE.match(str(phone))
    as_example = isinstance(phone, str) and EXAMPLE_PHONE.match(phone)
    if phone is not None and not (as_integer or as_example):
        return True
    return name is not None and not isinstance(name, str)


def validate_create(body) -> tuple[str, str] | None:
    """IremboPay's error code and detail refusing ``body``, or None when it is acceptable."""
    if not isinstance(body, dict):
        return "BAD_REQUEST", "The request body must be a JSON object"
    tid = body.get("transactionId")
    if not isinstance(tid, str) or not tid.strip():
        return "TRANSACTION_ID_MISSING", "No transaction id provided"
    items = body.get("paymentItems")
    if not isinstance(items, list) or not items:
        return "PRODUCT_MISSING", "No product provided."
    account = body.get("paymentAccountIdentifier")
    currency = ACCOUNTS.get(account) if isinstance(account, str) else None
    if any(_bad_item(entry, currency) for entry in items):
        return "BAD_PRODUCT", "An item of the products array is incorrectly formatted or has missing parameters."
    if not isinstance(account, str) or not account:
        return "PAYMENT_ACCOUNT_MISSING", "paymentAccountIdentifier parameter is missing."
    if _bad_expiry(body.get("expiryAt")):
        return "BAD_EXPIRATION_DATE", "The expiration date is incorrectly formatted or is in the past"
    if body.get("language") is not None and body.get("language") not in LANGUAGES:
        return "BAD_LANGUAGE", "The language is incorrectly formatted."
    if _bad_customer(body.get("customer")):
        return "BAD_CUSTOMER_CONTACT", "A CustomerContact is incorrectly formatted."
    if currency is None:
        return "PAYMENT_ACCOUNT_NOT_FOUND", "The payment account identifier provided does not exist under the merchant."
    if any(not entry["code"].startswith(PRODUCT_PREFIX) for entry in items):
        return "PRODUCT_NOT_FOUND", "A product provided does not exist under the merchant."
    return None


def _now() -> str:
    return datetime.now(KIGALI).isoformat(timespec="milliseconds")


def _find(reference: str) -> SimInvoice | None:
    """An IremboPay invoice by its number or by the merchant's transactionId."""
    with STATE.lock:
        return next((i for i in STATE.invoices.values() if i.gateway == NAME
                     and reference in (i.token, i.reference)), None)


def _store(body: dict) -> SimInvoice | None:
    """Record a new invoice; None when its transactionId is already taken."""
    number = str(secrets.randbelow(9 * 10**11) + 10**11)
    amount = sum(Decimal(i["unitAmount"]) * i["quantity"] for i in body["paymentItems"])
    invoice = SimInvoice(
        gateway=NAME, token=number, reference=body["transactionId"], amount=amount,
        currency=ACCOUNTS[body["paymentAccountIdentifier"]], request=body, status="NEW",
        page_path=f"/_sim/irembopay/checkout/{number}",
        callback_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + CALLBACK_PATH,
    )
    # The simulator keeps its own fields beside the merchant's body.
    invoice.request.update(createdAt=_now(), paymentLinkUrl=request.host_url.rstrip("/") + invoice.page_path)
    with STATE.lock:
        if any(i.gateway == NAME and i.reference == invoice.reference for i in STATE.invoices.values()):
            return None
        STATE.invoices[number] = invoice
    return invoice


def invoice_data(invoice: SimInvoice, amount_delta: int = 0) -> dict:
    """The invoice as Get Invoice and the payment notification show it."""
    body = invoice.request
    data = {
        "invoiceNumber": invoice.token,
        "transactionId": invoice.reference,
        "paymentAccountIdentifier": body["paymentAccountIdentifier"],
        "paymentItems": body["paymentItems"],
        "paymentStatus": invoice.status,
        "amount": invoice.amount + amount_delta,
        "currency": invoice.currency,
        "type": "SINGLE",
        "createdAt": body["createdAt"],
        "updatedAt": body.get("updatedAt", body["createdAt"]),
        "expiryAt": body.get("expiryAt"),
        "customer": body.get("customer"),
        "description": body.get("description"),
        "language": body.get("language"),
        "paymentLinkUrl": body["paymentLinkUrl"],
    }
    if invoice.status == "PAID":
        data.update({key: body[key] for key in ("paidAt", "paymentMethod", "paymentReference")})
    return data


@bp.post("/irembopay/payments/invoices")
def irembopay_create():
    """``POST /payments/invoices`` as IremboPay answers it."""
    faults = STATE.faults_for(NAME)
    if faults["create"] == "hang":
        return hang()
    if faults["create"] == "http500":
        return "Internal Server Error", 500
    problem = _auth_problem()
    if problem is not None:
        return problem
    try:  # amounts as exact Decimals, never floats
        body = json.loads(request.get_data(), parse_float=Decimal)
    except ValueError:
        body = None
    refused = validate_create(body)
    if refused:
        return _refuse(*refused)
    if faults["create"] == "refuse":
        return _refuse("PAYMENT_ACCOUNT_NOT_FOUND",
                       "The payment account identifier provided does not exist under the merchant.")
    invoice = _store(body)
    if invoice is None:
        return _refuse("DUPLICATE_TRANSACTION_ID", "The provided transaction Id already exists")
    if faults["create"] == "timeout":
        # The invoice exists, but the answer comes too late for the shop to see it.
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    return _json({"success": True, "message": "Invoice created successfully",
                  "data": invoice_data(invoice)}, 201)


@bp.get("/irembopay/payments/invoices/<reference>")
def irembopay_get(reference: str):
    """``GET /payments/invoices/{invoiceNumber or transactionId}``."""
    faults = STATE.faults_for(NAME)
    failing = status_fault(NAME)
    if failing:
        return failing
    problem = _auth_problem()
    if problem is not None:
        return problem
    invoice = _find(reference)
    if invoice is None:
        return _refuse("INVOICE_NOT_FOUND", "Invoice not found", 404)
    return _json({"success": True, "message": "Invoice fetched successfully",
                  "data": invoice_data(invoice, faults["amount_delta"])})


#: The fields of the documented sample notification (payment-notifications page): no
#: ``currency`` and no ``paymentStatus`` in it; real handlers also read those, so by default
#: the simulator sends the whole invoice (fault ``notice_fields``: "full" or "documented").
DOCUMENTED_NOTICE_FIELDS = ("amount", "invoiceNumber", "transactionId", "createdAt", "updatedAt", "paidAt")


def notification(invoice: SimInvoice, amount_delta: int = 0) -> bytes:
    """The payment notification's body, as the exact bytes that are signed and sent."""
    data = invoice_data(invoice, amount_delta)
    if STATE.faults_for(NAME)["notice_fields"] == "documented":
        data = {key: data[key] for key in DOCUMENTED_NOTICE_FIELDS if key in data}
    body = {"success": True, "message": "Payment notification", "data": data}
    return json.dumps(body, default=_number).encode()


def signature_header(raw: bytes, secret: str, timestamp_ms: int | None = None) -> str:
    """``t=<ms>,s=<hex>``: HMAC-SHA256(secret, ``t#raw``), as in IremboPay's example."""
    t = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    s = hmac.new(secret.encode(), t.encode() + b"#" + raw, hashlib.sha256).hexdigest()
    return f"t={t},s={s}"


def _post(invoice: SimInvoice, raw: bytes) -> None:
    """Sign now (so a delay does not stale the signature) and POST to the portal's URL."""
    headers = {"Content-Type": "application/json",
               "irembopay-signature": signature_header(raw, SIM_CREDENTIALS[NAME]["secret_key"])}
    try:
        response = requests.post(invoice.callback_url, data=raw, headers=headers,
                                 timeout=TIMEOUT, allow_redirects=False)
        invoice.deliveries.append(f"notification → {response.status_code}")
    except requests.RequestException as exc:
        invoice.deliveries.append(f"failed: {type(exc).__name__}")


def notify(invoice: SimInvoice) -> None:
    """Send the payment notification, honouring the callback faults."""
    faults = STATE.faults_for(NAME)
    if faults["callbacks"] == "none":
        return
    raw = notification(invoice, faults["amount_delta"])
    if not faults["callback_delay"]:
        _post(invoice, raw)
        return

    def later() -> None:
        time.sleep(faults["callback_delay"])
        _post(invoice, raw)

    threading.Thread(target=later, daemon=True).start()


def _expired(invoice: SimInvoice) -> bool:
    expiry = invoice.request.get("expiryAt")
    if not expiry:
        return False
    return datetime.fromisoformat(expiry.replace("Z", "+00:00")) <= datetime.now(timezone.utc)


def _page(invoice: SimInvoice, error: str | None = None, status: int = 200):
    return render_template("simulator/irembopay_pay.html", invoice=invoice, error=error,
                           expired=_expired(invoice), methods=METHODS), status


def _pay(invoice: SimInvoice) -> tuple[str | None, int]:
    """Take the payment from the page's form; (error, HTTP status) when it does not go through."""
    method = request.form.get("method", "MTN_MOMO")
    if method not in METHODS:
        return "Choose a payment method.", 400
    if method == "ONLINE_CARD":
        number = request.form.get("card_number", "").replace(" ", "")
        if not re.fullmatch(r"\d{12,19}", number):
            return "Enter the card number (12 to 19 digits).", 400
    else:
        number = request.form.get("phone", "").replace(" ", "")
        match = PHONE.match(number)
        if not match or (method == "MTN_MOMO") != match.group(1).startswith(("78", "79")):
            return "Enter an MTN (078/079) or Airtel (072/073) number that matches the method.", 400
        number = "0" + match.group(1)
    if number in FAILING:
        return "The payment was declined. Nothing was charged; try another number or card.", 402
    invoice.request.update(paidAt=_now(), updatedAt=_now(), paymentMethod=method,
                           paymentReference="MP" + secrets.token_hex(6).upper())
    invoice.payer_phone, invoice.status = number[-4:], "PAID"
    return None, 200


@bp.route("/irembopay/checkout/<number>", methods=["GET", "POST"])
def irembopay_page(number: str):
    """IremboPay's hosted checkout: mobile money (MTN, Airtel) or card. No way back to the shop."""
    invoice = STATE.get(number)
    if invoice is None or invoice.gateway != NAME:
        return render_template("simulator/unknown.html"), 404
    if request.method == "GET" or invoice.status != "NEW" or _expired(invoice):
        return _page(invoice)
    if request.form.get("action") != "pay":
        return _page(invoice, "Choose an action.", 400)
    error, status = _pay(invoice)
    if error:
        return _page(invoice, error, status)
    notify(invoice)
    return _page(invoice)


@bp.post("/irembopay/checkout/<number>/repush")
def irembopay_repush(number: str):
    """The portal's "re-push notification" for a paid invoice (sends it again)."""
    invoice = STATE.get(number)
    if invoice is None or invoice.gateway != NAME or invoice.status != "PAID":
        return _refuse("INVOICE_NOT_PAID", "Only paid invoices can be re-pushed", 404)
    _post(invoice, notification(invoice, STATE.faults_for(NAME)["amount_delta"]))
    return _page(invoice)
