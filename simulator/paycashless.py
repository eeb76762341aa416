"""Simulated Paycashless: signed create and retrieve, hosted invoice page, signed webhooks.

Wire formats follow seed 004 and ``docs/gateways/paycashless.md``:
every call must carry ``Authorization: Bearer``, a ``Request-Timestamp`` within five
minutes and a ``Request-Signature`` (HMAC-SHA512 of the lowercased path, the HMAC-SHA512 of
the sorted compact body, and the timestamp); errors are ``{"error": {type, code, message}}``.
Webhooks go to the invoice's ``callbackUrl``, signed, and are retried three times when
not answered 2xx (``SIM_WEBHOOK_RETRY_SECONDS`` apart; Paycashless waits a minute).

``taxRateIds`` (seed 004: "The tax rates to apply to the invoice") name tax rates set up
in the merchant's Paycashless account: the simulator's account has those in ``TAX_RATES``.
Known ids are applied to the invoice's amounts; an unknown id is refused (422, in
Paycashless's error shape), never silently dropped.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeGuard

from flask import current_app, jsonify, redirect, render_template, request

from . import SIM_CREDENTIALS, bp
from .delivery import deliver
from .state import RETRY_AFTER, STATE, SimInvoice, hang

NAME = "paycashless"
PREFIX = "/_sim/paycashless"  # the simulated API host's root: signed paths start after it
TOLERANCE = 300
MAX_ITEMS = 20
WEBHOOK_RETRIES = 3
#: Where the first webhook attempt goes under the ``callbacks="down-first"`` fault: a closed port.
OUTAGE_URL = "http://127.0.0.1:9/"
STATUS_FAULT = re.compile(r"^http(\d{3})(?:x(\d+))?$")
SYMBOLS = {"NGN": "₦", "USD": "$"}
#: The simulated merchant account's tax rates. How Paycashless computes taxes is not
#: documented; we follow the usual reading: an exclusive rate is added on top of the items,
#: an inclusive one is already inside their prices (only reported).
TAX_RATES: dict[str, dict[str, Any]] = {
    "txr_vat": {"id": "txr_vat", "displayName": "VAT", "percentage": Decimal("7.5"), "inclusive": False},
    "txr_vat_inclusive": {"id": "txr_vat_inclusive", "displayName": "VAT (included)",
                          "percentage": Decimal("7.5"), "inclusive": True},
}


@dataclass
class PaycashlessInvoice(SimInvoice):
    number: str = ""
    amount_paid: int = 0
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    due_date: datetime | None = None
    #: Status calls answered so far (for faults such as ``http503x2``).
    status_calls: int = 0
    sub_total: int = 0
    tax_exclusive: int = 0
    tax_inclusive: int = 0

    @property
    def display_amount(self) -> str:
        """``₦35,000.00``: minor units shown in major units."""
        return money(self.amount, self.currency)

    @property
    def display_remaining(self) -> str:
        return money(max(0, self.amount - self.amount_paid), self.currency)


def money(amount: int, currency: str) -> str:
    """Minor units as the page shows them: ``₦35,000.00``."""
    return f"{SYMBOLS.get(currency, currency + ' ')}{Decimal(amount).scaleb(-2):,.2f}"


def _error(status: int, type_: str, code: str, message: str):
    return jsonify(error={"type": type_, "code": code, "message": message}), status


def _auth_error(message: str):
    return _error(401, "authentication_error", "request_signature_invalid", message)


def _hmac_hex(message: bytes) -> str:
    secret = SIM_CREDENTIALS[NAME]["api_secret"].encode()
    return hmac.new(secret, message, hashlib.sha512).hexdigest()


def _js_number(text: str):
    """Numbers as JavaScript reads them: ``100000.0`` is the integer 100000."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def _parsed_body():
    """The request's JSON as Paycashless's (JavaScript) server reads it; ``...`` if unreadable."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"), parse_float=_js_number)
    except (UnicodeDecodeError, ValueError):
        return ...


def _check_signature(body) -> tuple | None:
    """The 401 answer for a request that is not signed as Paycashless requires, else None."""
    if request.headers.get("Authorization") != f"Bearer {SIM_CREDENTIALS[NAME]['api_key']}":
        return _auth_error("Authorization failed, invalid API key")
    timestamp = request.headers.get("Request-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return _auth_error("Authorization failed, request timestamp is missing or expired")
    message = request.path[len(PREFIX):].lower()
    if body is not None:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        message += _hmac_hex(canonical.encode())
    expected = _hmac_hex((message + timestamp).encode())
    if not hmac.compare_digest(expected, request.headers.get("Request-Signature", "").lower()):
        return _auth_error("Authorization failed, invalid signature")
    return None


def _is_int(value) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _items_problem(items) -> str | None:
    if not isinstance(items, list) or not items:
        return "items is required and must be a non-empty array"
    if len(items) > MAX_ITEMS:
        return f"items must contain at most {MAX_ITEMS} items"
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]
                and _is_int(item.get("quantity")) and item["quantity"] > 0
                and _is_int(item.get("price")) and item["price"] >= 0):
            return "each item needs a name, a positive integer quantity and an integer price"
    if sum(i["price"] * i["quantity"] for i in items) <= 0:
        return "the invoice total must be above zero"
    return None


def validate_create(body) -> str | None:
    """Why ``body`` is refused (422), or None when it is acceptable."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name in ("reference", "description"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} is required"
    if body.get("currency") not in ("NGN", "USD"):
        return "currency must be one of NGN, USD"
    customer = body.get("customer")
    if not isinstance(customer, dict) or not isinstance(customer.get("email"), str) or "@" not in customer["email"]:
        return "customer is required, with an email"
    problem = _items_problem(body.get("items"))
    if problem:
        return problem
    days = body.get("daysUntilDue")
    if not _is_int(days) or not 0 < days <= 1800:
        return "daysUntilDue is required and must be an integer in 1..1800"
    for name in ("acceptPartialPayments", "sendEmail", "autoFinalize"):
        if name in body and not isinstance(body[name], bool):
            return f"{name} must be a boolean"
    installments = body.get("maxInstallments", 1)  # seed 004: number, default 1
    if isinstance(installments, bool) or not isinstance(installments, (int, float)) or installments < 1:
        return "maxInstallments must be a number of at least 1"
    for name in ("callbackUrl", "returnUrl"):
        if name in body and not _is_url(body[name]):
            return f"{name} must be a URI"
    if "metadata" in body and not isinstance(body["metadata"], dict):
        return "metadata must be an object"
    ids = body.get("taxRateIds", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return "taxRateIds must be an array of strings"
    return None


def unknown_tax_rate(body: dict) -> str | None:
    """The first ``taxRateIds`` entry the account does not have, or None."""
    return next((i for i in body.get("taxRateIds", []) if i not in TAX_RATES), None)


def taxes(sub_total: int, ids: list[str]) -> tuple[int, int]:
    """(exclusive tax added on top, inclusive tax already in the prices), minor units."""
    exclusive = inclusive = Decimal(0)
    for rate in (TAX_RATES[i] for i in ids):
        pct = rate["percentage"]
        if rate["inclusive"]:
            inclusive += Decimal(sub_total) * pct / (100 + pct)
        else:
            exclusive += Decimal(sub_total) * pct / 100
    whole = lambda d: int(d.to_integral_value(rounding=ROUND_HALF_UP))  # noqa: E731
    return whole(exclusive), whole(inclusive)


def _reference_taken(reference: str) -> bool:
    with STATE.lock:
        return any(i.gateway == NAME and i.reference == reference for i in STATE.invoices.values())


@bp.post("/paycashless/v1/invoices")
def paycashless_create():
    """``POST /v1/invoices`` as Paycashless answers it (201 with the invoice)."""
    faults = STATE.faults_for(NAME)
    if faults["create"] == "hang":
        return hang()
    if faults["create"] == "http500":
        return _error(500, "api_error", "internal_error", "Something went wrong on our end")
    body = _parsed_body()
    if body is ...:
        return _error(400, "invalid_request_error", "invalid_json", "Request body is not valid JSON")
    refused = _check_signature(body)
    if refused:
        return refused
    if faults["create"] == "http429":
        return _error(429, "invalid_request_error", "too_many_requests", "Too many requests")
    problem = validate_create(body)
    if problem:
        return _error(422, "invalid_request_error", "validation_error", problem)
    unknown = unknown_tax_rate(body)
    if unknown:
        return _error(422, "invalid_request_error", "tax_rate_not_found", f"Tax rate {unknown[:60]} not found")
    if _reference_taken(body["reference"]):
        return _error(409, "invalid_request_error", "duplicate_reference",
                      "An invoice with this reference already exists")
    if faults["create"] == "refuse":
        return _error(400, "invalid_request_error", "invoice_creation_failed",
                      "Invoice could not be created for this account")
    invoice = _store(body)
    if faults["create"] == "timeout":
        # The invoice exists, but the answer comes too late for the shop to see it.
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    return jsonify(invoice_object(invoice)), 201


def _store(body: dict) -> PaycashlessInvoice:
    token = "inv_" + secrets.token_hex(16)
    now = datetime.now(timezone.utc)
    with STATE.lock:
        number = f"{sum(1 for i in STATE.invoices.values() if i.gateway == NAME) + 1:04d}"
    sub_total = sum(i["price"] * i["quantity"] for i in body["items"])
    exclusive, inclusive = taxes(sub_total, body.get("taxRateIds", []))
    return STATE.add(PaycashlessInvoice(
        gateway=NAME, token=token, reference=body["reference"], sub_total=sub_total,
        tax_exclusive=exclusive, tax_inclusive=inclusive,
        amount=sub_total + exclusive, currency=body["currency"],
        request=body, status="open" if body.get("autoFinalize") else "draft",
        callback_url=body.get("callbackUrl", ""), return_url=body.get("returnUrl", ""),
        page_path=f"{PREFIX}/invoicing/{token}", number=number,
        due_date=now + timedelta(days=body["daysUntilDue"]),
    ))


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def invoice_object(invoice: PaycashlessInvoice, amount_delta: int = 0) -> dict:
    """The invoice as Paycashless returns it (create, retrieve, ``INVOICE_PAID`` webhooks)."""
    body = invoice.request
    due = invoice.amount + amount_delta
    paid = invoice.amount_paid + (amount_delta if invoice.status == "paid" else 0)
    customer = body.get("customer", {})
    return {
        "id": invoice.token, "status": invoice.status, "number": invoice.number,
        "reference": invoice.reference, "description": body.get("description", ""),
        "currency": invoice.currency, "liveMode": bool(STATE.faults_for(NAME)["live_mode"]),
        "sendEmail": body.get("sendEmail", False),
        "customerId": "cus_" + hashlib.sha1(str(customer.get("email")).encode()).hexdigest()[:16],
        "customer": {"email": customer.get("email"), "name": customer.get("name"),
                     "address": customer.get("address"), "phoneNumber": customer.get("phoneNumber")},
        "amountDue": due, "amountPaid": paid, "amountRemaining": max(0, due - paid),
        "amountOverpaid": max(0, paid - due), "subTotal": invoice.sub_total or due,
        "totalInclusiveTaxAmount": invoice.tax_inclusive, "totalExclusiveTaxAmount": invoice.tax_exclusive,
        "taxRateIds": list(body.get("taxRateIds", [])),
        "taxRates": [{**TAX_RATES[i], "percentage": float(TAX_RATES[i]["percentage"])}
                     for i in body.get("taxRateIds", [])],
        "items": [{"id": f"ii_{invoice.token[4:12]}{n}", **item} for n, item in enumerate(body["items"])],
        "acceptPartialPayments": body.get("acceptPartialPayments", False), "maxInstallments": 1,
        "daysUntilDue": body.get("daysUntilDue"), "dueDate": _iso(invoice.due_date),
        "paidAt": _iso(invoice.paid_at), "cancelledAt": _iso(invoice.cancelled_at),
        "cancellationReason": "Cancelled on the hosted page" if invoice.cancelled_at else None,
        "createdAt": _iso(invoice.created_at), "updatedAt": _iso(invoice.paid_at or invoice.created_at),
        "callbackUrl": invoice.callback_url or None, "returnUrl": invoice.return_url or None,
        "metadata": body.get("metadata", {}),
        "hostedInvoiceUrl": request.host_url.rstrip("/") + invoice.page_path,
        "invoicePdf": None, "receiptPdf": None, "logo": None,
    }


def _paycashless_invoice(invoice_id: str) -> PaycashlessInvoice | None:
    invoice = STATE.get(invoice_id)
    return invoice if isinstance(invoice, PaycashlessInvoice) else None


def _status_fault(invoice: PaycashlessInvoice | None, fault: str):
    """The error answer a ``status`` fault plays now (``http500``, ``http429``, ``http503x2``…)."""
    match = STATUS_FAULT.match(fault or "")
    if not match:
        return None
    code, times = int(match.group(1)), match.group(2)
    if times is not None:
        if invoice is None or invoice.status_calls >= int(times):
            return None
        invoice.status_calls += 1
    if code == 429:
        body, status = _error(429, "invalid_request_error", "too_many_requests", "Too many requests")
        return body, status, {"Retry-After": str(RETRY_AFTER)}
    return _error(code, "api_error", "internal_error", "Something went wrong on our end")


@bp.get("/paycashless/v1/invoices/<invoice_id>")
def paycashless_retrieve(invoice_id: str):
    """``GET /v1/invoices/{id}`` (signed, no body hash)."""
    faults = STATE.faults_for(NAME)
    if faults["status"] == "timeout":
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    invoice = _paycashless_invoice(invoice_id)
    failing = _status_fault(invoice, faults["status"])
    if failing:
        return failing
    refused = _check_signature(None)
    if refused:
        return refused
    if invoice is None:
        return _error(404, "invalid_request_error", "resource_not_found", "Invoice not found")
    return jsonify(invoice_object(invoice, faults["amount_delta"]))


def _signed(event: str, data: dict, callback_url: str) -> dict:
    """One webhook as ``requests.post`` arguments: body, signature headers, a label."""
    data_json = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    timestamp = str(int(time.time()))
    signature = _hmac_hex((callback_url + _hmac_hex(data_json.encode()) + timestamp).encode())
    body = '{"event":' + json.dumps(event) + ',"data":' + data_json + "}"
    return {"label": event, "data": body.encode(),
            "headers": {"Content-Type": "application/json", "Request-Signature": signature,
                        "Request-Timestamp": timestamp, "User-Agent": "Paycashless-Webhooks (simulated)"}}


def payment_event(invoice: PaycashlessInvoice, amount: int) -> dict:
    """``INVOICE_PAYMENT_SUCCEEDED`` data: one payment, no ``reference``."""
    now = _iso(datetime.now(timezone.utc))
    return {"id": "pay_" + secrets.token_hex(12), "invoiceId": invoice.token,
            "intentId": "pi_" + secrets.token_hex(12), "amountPaid": amount, "amountRequested": amount,
            "currency": invoice.currency, "paid": True, "liveMode": bool(STATE.faults_for(NAME)["live_mode"]),
            "createdAt": now, "updatedAt": now}


def _send_webhooks(invoice: PaycashlessInvoice, amount: int) -> None:
    faults = STATE.faults_for(NAME)
    if faults["callbacks"] == "none" or not invoice.callback_url:
        return
    sends = [_signed("INVOICE_PAYMENT_SUCCEEDED", payment_event(invoice, amount), invoice.callback_url)]
    if invoice.status == "paid":
        sends.append(_signed("INVOICE_PAID", invoice_object(invoice), invoice.callback_url))
    first_url = OUTAGE_URL + "webhook" if faults["callbacks"] == "down-first" else None
    deliver(invoice, invoice.callback_url, sends, delay=faults["callback_delay"], retries=WEBHOOK_RETRIES,
            interval=current_app.config.get("SIM_WEBHOOK_RETRY_SECONDS", 60), first_url=first_url)


def _take_payment(invoice: PaycashlessInvoice, amount: int) -> None:
    invoice.amount_paid += amount
    if invoice.amount_paid >= invoice.amount:
        invoice.status, invoice.paid_at = "paid", datetime.now(timezone.utc)
    else:
        invoice.status = "partially_paid"
    _send_webhooks(invoice, amount)


def _page(invoice: PaycashlessInvoice, error: str | None = None, status: int = 200):
    return render_template("simulator/paycashless_pay.html", invoice=invoice, error=error, money=money), status


@bp.route("/paycashless/invoicing/<invoice_id>", methods=["GET", "POST"])
def paycashless_page(invoice_id: str):
    """The hosted invoice page: pay it, send a short transfer, or cancel the invoice."""
    invoice = _paycashless_invoice(invoice_id)
    if invoice is None:
        return render_template("simulator/unknown.html"), 404
    if request.method == "GET":
        return _page(invoice)
    if invoice.status not in ("open", "partially_paid"):
        return _page(invoice, "This invoice cannot be paid.", 409)
    action, remaining = request.form.get("action"), invoice.amount - invoice.amount_paid
    if action == "pay":
        _take_payment(invoice, remaining)
        return redirect(invoice.return_url or invoice.page_path, 303)
    if action == "partial" and remaining >= 2:
        _take_payment(invoice, remaining // 2)
        return redirect(invoice.page_path, 303)
    if action == "cancel" and invoice.amount_paid == 0:
        invoice.status, invoice.cancelled_at = "cancelled", datetime.now(timezone.utc)
        # Not documented: we send the customer back to returnUrl so the shop can see it.
        return redirect(invoice.return_url or invoice.page_path, 303)
    return _page(invoice, "Choose an action.", 400)
