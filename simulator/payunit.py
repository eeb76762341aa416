"""Simulated PayUnit: invoice create, invoice details, hosted page, callback.

Follows seed 003 and ``docs/gateways/payunit.md``. After a
payment the hosted page sends the browser to ``callback_url`` (seed 003: "The URL
where the customer will be redirected after the payment"), after the server
callback. The callback payload is undocumented for invoices: the simulator posts
the older REST ``notify_url`` shape plus the invoice ids. HTTPS is required for
``callback_url`` and ``logo`` in every mode, except towards a loopback host (the
shop beside the simulator, in development and tests).
"""
from __future__ import annotations

import base64
import re
import time
import uuid as uuidlib
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, jsonify, redirect, render_template, request

from . import SIM_CREDENTIALS, bp
from .delivery import deliver
from .state import STATE, SimInvoice, hang, status_fault

NAME = "payunit"
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
#: Hosts a plain-http URL may point at: the local shop (development and tests) only.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: The merchant's company as PayUnit shows it in the create answer (seed 003's fields).
COMPANY = {"name": "Comptoir (simulated)", "slug": None, "email": "merchant@example.cm",
           "phone_number": "237670000000", "logo": "https://pu.payunit.net/assets/logo.png",
           "user_id": "4ffbcc14-fedc-4437-8be6-d7975fbd056a",
           "application_id": "40dc357d-8f04-4bcf-a511-9207e7cd3156"}
REQUIRED = ("client_name", "client_email", "client_phone_number", "due_date", "partial_payment",
            "type", "currency", "callback_url", "items")


def _envelope(status_code: int, message: str, data=None, status: str = "FAILED"):
    return jsonify({"status": status, "statusCode": status_code, "message": message,
                    "data": data}), status_code


def _auth_problem() -> str | None:
    creds = SIM_CREDENTIALS[NAME]
    basic = base64.b64encode(f"{creds['api_user']}:{creds['api_password']}".encode()).decode()
    if request.headers.get("Authorization") != f"Basic {basic}":
        return "Invalid API credentials"
    if request.headers.get("x-api-key") != creds["api_key"]:
        return "Invalid API key"
    if mode() not in ("test", "live"):
        return "Invalid mode: expected test or live"
    return None


def mode() -> str:
    """The ``mode`` header, read without regard to case (seed 003: "Live or test")."""
    return (request.headers.get("mode") or "").strip().lower()


def _secure(url) -> bool:
    """HTTPS, or plain http towards the local shop (loopback)."""
    parts = urlsplit(str(url))
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_create(body) -> str | None:
    """Why PayUnit would refuse ``body``, or None."""
    if not isinstance(body, dict):
        return "Invalid JSON body"
    missing = [k for k in REQUIRED if k not in body or body[k] in (None, "")]
    if missing:
        return f"Missing required field(s): {', '.join(missing)}"
    if not isinstance(body["partial_payment"], bool) or body["type"] not in ("NORMAL", "INSTALLMENT"):
        return "partial_payment must be a boolean and type NORMAL or INSTALLMENT"
    if "is_custom_company" in body and not isinstance(body["is_custom_company"], bool):
        return "is_custom_company must be a boolean"  # seed 003: optional, "Boolean indicating…"
    if body["currency"] != "XAF":
        return "Unsupported currency"
    if not ISO_WITH_ZONE.match(str(body["due_date"])):
        return "due_date must be ISO 8601 with a timezone"
    urls = [body["callback_url"], ((body.get("custom_billing_company") or {}).get("logo") or "")]
    if any(u and not _secure(u) for u in urls):  # every mode: the seed makes no test exception
        return "All URLs must utilize HTTPS protocol { callback_url, logo }"
    items = body["items"]
    if not isinstance(items, list) or not items or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) and _is_int(i.get("amount"))
        and i["amount"] > 0 and _is_int(i.get("quantity")) and i["quantity"] > 0 for i in items
    ):
        return "items must be a list of {name, amount, quantity} with positive integers"
    return None


@bp.post("/payunit/api/gateway/invoice/create")
def payunit_create():
    """``POST /api/gateway/invoice/create`` answered with the seed's envelope."""
    faults = STATE.faults_for(NAME)
    if faults["create"] == "hang":
        return hang()
    if faults["create"] == "http500":
        return "Internal Server Error", 500
    problem = _auth_problem()
    if problem:
        return _envelope(401, problem)
    body = request.get_json(silent=True)
    problem = validate_create(body)
    if problem:
        return _envelope(400, problem)
    if faults["create"] == "refuse":
        return _envelope(400, "Invoice could not be created")
    invoice = _store(body)
    if faults["create"] == "timeout":
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    data = {"link": request.host_url.rstrip("/") + invoice.page_path, "invoice": created_json(invoice)}
    return _envelope(200, "Invoice created", data, status="SUCCESS")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def created_json(invoice: SimInvoice) -> dict:
    """The invoice as seed 003's create answer shows it: amounts as numbers at the top,
    as strings in the items; the client and company objects with their ids."""
    body, created = invoice.request, _stamp(invoice.created_at)
    meta = {"created_at": created, "lastChangedDateTime": created, "isDeleted": None}
    answer = {
        "ref": invoice.reference, "amount_paid": 0, "remaining_amount": invoice.amount,
        "status": invoice.status,
        "client": {"uuid": str(uuidlib.uuid4()), **meta, "name": body["client_name"],
                   "email": body["client_email"], "phone_number": body["client_phone_number"]},
        "total_amount": invoice.amount, "due_date": body["due_date"], "sub_total": invoice.amount,
        "company": {"uuid": str(uuidlib.uuid4()), **meta, **COMPANY},
        "is_custom_company": bool(body.get("is_custom_company", False)),
        "callback_url": invoice.callback_url, "type": body["type"],
        "partial_payment": body["partial_payment"], "currency": invoice.currency,
        "items": [{"name": i["name"], "amount": str(i["amount"]), "quantity": str(i["quantity"]),
                   "ref": f"ITEM{int(time.time() * 1000) + n}", "uuid": str(uuidlib.uuid4()), **meta}
                  for n, i in enumerate(body["items"])],
        "fees": None, "uuid": invoice.token, **meta,
    }
    if body.get("custom_billing_company") is not None:
        answer["custom_billing_company"] = body["custom_billing_company"]
    return answer


def _store(body: dict) -> SimInvoice:
    uuid = str(uuidlib.uuid4())
    total = sum(i["amount"] * i["quantity"] for i in body["items"])
    return STATE.add(SimInvoice(
        gateway=NAME, token=uuid, reference=f"INV-{int(time.time() * 1000)}", amount=total,
        currency="XAF", request=body, status="UNPAID", callback_url=body["callback_url"],
        page_path=f"/_sim/payunit/invoice/{uuid}",
    ))


def invoice_json(invoice: SimInvoice, amount_delta: int = 0) -> dict:
    """The invoice object as PayUnit returns it (amounts as strings in details)."""
    body = invoice.request
    paid = invoice.amount if invoice.status == "PAID" else 0
    total = invoice.amount + amount_delta
    created = invoice.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "uuid": invoice.token, "ref": invoice.reference, "status": invoice.status,
        "total_amount": str(total), "sub_total": str(total), "amount_paid": str(paid),
        "remaining_amount": str(max(total - paid, 0)), "currency": invoice.currency,
        "type": body["type"], "partial_payment": body["partial_payment"],
        "due_date": body["due_date"], "callback_url": invoice.callback_url,
        "client": {"name": body["client_name"], "email": body["client_email"],
                   "phone_number": body["client_phone_number"]},
        "items": [{"name": i["name"], "amount": str(i["amount"]), "quantity": str(i["quantity"])}
                  for i in body["items"]],
        "fees": None, "created_at": created, "lastChangedDateTime": created, "isDeleted": None,
    }


@bp.get("/payunit/invoice/get/<uuid>")
def payunit_invoice(uuid: str):
    """``GET /invoice/get/{uuid}``: the invoice details."""
    faults = STATE.faults_for(NAME)
    failing = status_fault(NAME)
    if failing:
        return failing
    problem = _auth_problem()
    if problem:
        return _envelope(401, problem)
    invoice = STATE.get(uuid)
    if invoice is None or invoice.gateway != NAME:
        return _envelope(404, "Invoice not found")
    details = invoice_json(invoice, faults["amount_delta"])
    if faults["status"] == "odd":
        details.update(status=7, total_amount=f"{invoice.amount:,} XAF", amount_paid=None)
    return _envelope(200, "Invoice details", details, status="SUCCESS")


@bp.route("/payunit/invoice/<uuid>", methods=["GET", "POST"])
def payunit_page(uuid: str):
    """PayUnit's hosted invoice page: pay with mobile money, or a declined attempt.

    Once paid, the browser is sent to ``callback_url`` (after the server callback), as
    PayUnit does; a declined attempt stays on the page, which can be tried again."""
    invoice = STATE.get(uuid)
    if invoice is None or invoice.gateway != NAME:
        return render_template("simulator/unknown.html"), 404
    if request.method == "GET" or invoice.status == "PAID":
        return render_template("simulator/payunit_pay.html", invoice=invoice, error=None, outcome=None)
    action = request.form.get("action")
    phone = request.form.get("phone", "").replace(" ", "")
    if action not in ("pay", "decline") or not re.fullmatch(r"(\+?237)?6\d{8}", phone):
        return render_template("simulator/payunit_pay.html", invoice=invoice, outcome=None,
                               error="Entrez un numéro MTN ou Orange valide (6XXXXXXXX)."), 400
    invoice.payer_phone = phone
    if action == "pay":
        invoice.status = "PAID"
    _notify(invoice, "SUCCESS" if action == "pay" else "FAILED")
    if action == "pay":
        return redirect(invoice.callback_url, 303)
    return render_template("simulator/payunit_pay.html", invoice=invoice, error=None, outcome=action)


def _notify(invoice: SimInvoice, outcome: str) -> None:
    transaction_id = f"PAYINV{int(datetime.now(timezone.utc).timestamp() * 1000)}"
    payload = {
        "transaction_id": transaction_id, "transaction_amount": str(invoice.amount),
        "transaction_status": outcome, "error": None if outcome == "SUCCESS" else "Payment declined",
        "message": f"Transaction of {invoice.amount} XAF "
                   + ("was successfully completed" if outcome == "SUCCESS" else "failed"),
        "invoice_id": invoice.token, "invoice_ref": invoice.reference,
    }
    faults = STATE.faults_for(NAME)
    sends = [] if faults["callbacks"] == "none" else [{"json": payload}]
    deliver(invoice, invoice.callback_url, sends, delay=faults["callback_delay"])
