"""Simulated LigdiCash: create, confirm, hosted page, double callbacks, redirects.

Wire formats follow seed 000 and ``docs/gateways/ligdicash.md``:
errors are ``response_code: "01"`` with ``Echec (CodeXX)`` in a 200 answer.
"""
from __future__ import annotations

import json
import re
import secrets
import time

from flask import current_app, jsonify, redirect, render_template, request

from . import SIM_CREDENTIALS, bp
from .delivery import deliver
from .state import STATE, SimInvoice, hang, status_fault

NAME = "ligdicash"
WIKI = "https://client.ligdicash.com/wiki/"
PHONE = re.compile(r"^\d{8,15}$")
MIN_AMOUNT, MAX_AMOUNT = 9, 2_000_000
#: "Do not go below 3 seconds between two confirm calls" (LigdiCash polling guidance).
MIN_CONFIRM_SECONDS = 3


def _answer(code: str, text: str, token: str = "", wiki: str = "createInvoice", **extra):
    body = {"response_code": code, "token": token, "response_text": text,
            "description": "", "wiki": WIKI + wiki, **extra}
    return jsonify(body)


def _fail(sub_code: str, wiki: str = "createInvoice"):
    return _answer("01", f"Echec ({sub_code})", wiki=wiki)


def _authorised() -> bool:
    """Seed 000: ``Apikey``, ``Authorization: Bearer <token>`` and ``Accept: application/json``
    are all required headers (how LigdiCash refuses a missing ``Accept`` is not documented:
    like a bad key)."""
    creds = SIM_CREDENTIALS[NAME]
    return (request.headers.get("Apikey") == creds["api_key"]
            and request.headers.get("Authorization") == f"Bearer {creds['api_token']}"
            and request.headers.get("Accept", "").split(";")[0].strip().lower() == "application/json")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_url(value) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def validate_create(body) -> str | None:
    """The LigdiCash sub-code refusing ``body``, or None when it is acceptable."""
    try:
        invoice = body["commande"]["invoice"]
        store = body["commande"]["store"]
        actions = body["commande"]["actions"]
    except (KeyError, TypeError):
        return "Code08"
    items = invoice.get("items")
    if not isinstance(items, list) or not _is_int(invoice.get("total_amount")):
        return "Code08"
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                and _is_int(item.get("quantity")) and item["quantity"] > 0
                and _is_int(item.get("unit_price")) and _is_int(item.get("total_price"))
                and item["total_price"] == item["unit_price"] * item["quantity"]):
            return "Code08"
    if items and sum(i["total_price"] for i in items) != invoice["total_amount"]:
        return "Code08"
    if not MIN_AMOUNT <= invoice["total_amount"] <= MAX_AMOUNT:
        return "Code02"
    # The seed says only "Toujours XOF"; the official SDKs send "xof": any case is accepted.
    if str(invoice.get("devise") or "").upper() != "XOF" or not isinstance(invoice.get("description"), str):
        return "Code08"
    if not isinstance(invoice.get("customer"), str):
        return "Code08"
    if not (isinstance(store, dict) and isinstance(store.get("name"), str)
            and isinstance(store.get("website_url"), str)):
        return "Code08"
    if not all(_is_url((actions or {}).get(k)) for k in ("cancel_url", "return_url", "callback_url")):
        return "Code08"
    return None


@bp.post("/ligdicash/pay/v01/redirect/checkout-invoice/create")
def ligdicash_create():
    """``POST /pay/v01/redirect/checkout-invoice/create`` as LigdiCash answers it."""
    faults = STATE.faults_for(NAME)
    if faults["create"] == "hang":
        return hang()
    if faults["create"] == "http500":
        return "Internal Server Error", 500
    if not _authorised():
        return _fail("Code00")
    body = request.get_json(silent=True)
    problem = validate_create(body)
    if problem:
        return _fail(problem)
    if faults["create"] == "refuse":
        return _fail("Code04")
    invoice = _store(body)
    if faults["create"] == "timeout":
        # The invoice exists, but the answer comes too late for the shop to see it.
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    link = request.host_url.rstrip("/") + invoice.page_path
    return _answer("00", link, token=invoice.token)


def _store(body: dict) -> SimInvoice:
    commande = body["commande"]
    custom = commande.get("custom_data") or {}
    token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(24)
    return STATE.add(SimInvoice(
        gateway=NAME,
        token=token,
        page_path=f"/_sim/ligdicash/pay/invoice/{token}",
        reference=str(custom.get("transaction_id", "")),
        amount=commande["invoice"]["total_amount"],
        currency="XOF",
        request=body,
        status="pending",
        callback_url=commande["actions"]["callback_url"],
        return_url=commande["actions"]["return_url"],
        cancel_url=commande["actions"]["cancel_url"],
    ))


@bp.get("/ligdicash/pay/v01/redirect/checkout-invoice/confirm")
@bp.get("/ligdicash/pay/v01/redirect/checkout-invoice/confirm/")
def ligdicash_confirm():
    """``GET …/confirm?invoiceToken=`` (``token`` accepted too, as the docs disagree).

    Every call that names an invoice is recorded in its ``status_checks`` (even one that
    fails), so tests can see how often, and how far apart, the shop asked."""
    faults = STATE.faults_for(NAME)
    token = request.args.get("invoiceToken") or request.args.get("token") or ""
    invoice = STATE.get(token)
    invoice = invoice if invoice is not None and invoice.gateway == NAME else None
    too_soon = False
    if invoice is not None:
        now = time.time()
        too_soon = bool(invoice.status_checks) and now - invoice.status_checks[-1] < MIN_CONFIRM_SECONDS
        invoice.status_checks.append(now)
    failing = status_fault(NAME)
    if failing:
        return failing
    if not _authorised():
        return _fail("Code00", "confirmInvoice")
    if invoice is None:
        return _fail("Code02", "confirmInvoice")
    if too_soon and faults["confirm_pacing"]:
        # "Do not go below 3 seconds between two confirm calls. Overly aggressive polling can
        # trigger rate limits": how LigdiCash refuses is undocumented; we answer 429 + Retry-After.
        response = _fail("Code04", "confirmInvoice")
        response.status_code = 429
        response.headers["Retry-After"] = str(MIN_CONFIRM_SECONDS)
        return response
    answer = status_payload(invoice, faults["amount_delta"])
    if faults["status"] == "odd":
        answer.update(status=7, amount=f"{invoice.amount:,}", montant=None)
    return jsonify(answer)


def status_payload(invoice: SimInvoice, amount_delta: int = 0) -> dict:
    """The body LigdiCash sends in ``confirm`` answers and in callbacks (JSON variant)."""
    invoice_body = invoice.request["commande"]["invoice"]
    amount = invoice.amount + amount_delta
    done = invoice.status != "pending"
    return {
        "date": invoice.created_at.strftime("%Y-%m-%d %H:%M:%S+00"),
        "wiki": WIKI + "confirmInvoice",
        "token": "",
        "amount": amount,
        "montant": amount,
        "status": invoice.status,
        "customer": invoice.payer_phone or None,
        "oreference": "",
        "request_id": "P" + str(abs(hash(invoice.token)) % 10**13),
        "custom_data": [
            {"keyof_customdata": "transaction_id", "valueof_customdata": invoice.reference,
             "datecreation_customdata": invoice.created_at.isoformat()},
            {"keyof_customdata": "hash", "valueof_customdata": secrets.token_hex(16),
             "datecreation_customdata": invoice.created_at.isoformat()},
            {"keyof_customdata": "logfile", "valueof_customdata": secrets.token_hex(8),
             "datecreation_customdata": invoice.created_at.isoformat()},
        ],
        "description": invoice_body.get("description", ""),
        "external_id": invoice.reference,
        "operator_id": "11" if done else "",
        "operator_name": "ORANGE BURKINA" if done else "",
        "response_code": "00",
        "response_text": "",
        "customer_details": {
            "email": invoice_body.get("customer_email", ""),
            "phone": invoice.payer_phone,
            "details": "",
            "lastname": invoice_body.get("customer_lastname", ""),
            "firstname": invoice_body.get("customer_firstname", ""),
        },
    }


def callback_requests(invoice: SimInvoice, variants: str) -> list[dict]:
    """The POSTs LigdiCash sends for one event: JSON and form (custom_data as a JSON string)."""
    payload = status_payload(invoice)
    form = {k: json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else str(v))
            for k, v in payload.items()}
    sends = []
    if variants in ("both", "json"):
        sends.append({"json": payload})
    if variants in ("both", "form"):
        sends.append({"data": form})
    return sends


@bp.route("/ligdicash/pay/invoice/<token>", methods=["GET", "POST"])
def ligdicash_page(token: str):
    """LigdiCash's hosted payment page: pay (with a phone number), decline or cancel."""
    invoice = STATE.get(token)
    if invoice is None or invoice.gateway != NAME:
        return render_template("simulator/unknown.html"), 404
    if request.method == "GET" or invoice.status != "pending":
        return render_template("simulator/ligdicash_pay.html", invoice=invoice, error=None)
    action = request.form.get("action")
    if action == "cancel":
        return redirect(invoice.cancel_url, 303)
    if action == "pay":
        phone = request.form.get("phone", "").replace(" ", "")
        if not PHONE.match(phone):
            error = "Numéro invalide : indicatif pays puis numéro, sans + ni espaces (ex. 22670000000)."
            return render_template("simulator/ligdicash_pay.html", invoice=invoice, error=error), 400
        invoice.payer_phone, invoice.status = phone, "completed"
    elif action == "decline":
        invoice.status = STATE.faults_for(NAME)["failure_status"] or "notcompleted"
    else:
        return render_template("simulator/ligdicash_pay.html", invoice=invoice,
                               error="Choisissez une action."), 400
    faults = STATE.faults_for(NAME)
    deliver(invoice, invoice.callback_url, callback_requests(invoice, faults["callbacks"]),
            delay=faults["callback_delay"])
    return redirect(invoice.return_url, 303)
