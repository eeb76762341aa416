"""Paycashless (Nigeria; NGN and USD): signed invoices, signed webhooks.

Create: ``POST /v1/invoices`` (seed 004). Every call is signed (:func:`request_signature`).
Paycashless posts signed webhooks to the invoice's ``callbackUrl``; a valid signature only
makes us ask ``GET /v1/invoices/{id}`` (with the id stored at creation), whose answer decides.
Amounts are minor units (kobo, cents) both ways. See ``docs/gateways/paycashless.md``
for the choices below.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests

from .base import (
    CallbackNotice,
    CheckoutRequest,
    HostedPayment,
    Inbound,
    InvalidCallback,
    PaymentProvider,
    PaymentRef,
    ProviderError,
    ProviderUnavailable,
    StatusReport,
    billable_lines,
)

INVOICES_PATH = "/v1/invoices"
MAX_ITEMS = 20  # the seed: "items … Maximum length: 20"
MAX_DAYS_UNTIL_DUE = 1800  # the seed: 0 < daysUntilDue <= 1800
#: Webhook and request timestamps must be this close to our clock (documented for requests only).
TOLERANCE_SECONDS = 300
#: GET requests have no body: the docs say to omit the body hash; one third-party client hashes
#: ``{}`` instead and reports it works. Set to ``b"{}"`` if the live API insists.
GET_BODY_TO_HASH: bytes | None = None
#: The webhook docs say the callback URL is signed "exactly as you provided it" and, in the
#: same page, "lowercased": we accept a signature over either reading.
CALLBACK_URL_READINGS = (str, str.lower)
#: Invoice ids look like ``inv_…`` in every example; other events carry ``invoiceId``.
INVOICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
#: Hosted invoice pages live on Paycashless's own domain (``invoicing.paycashless.com``).
HOSTED_DOMAIN = "paycashless.com"
#: Only 429 and 5xx on the status check are retried, never the create: these sleeps, and only
#: while the whole check stays within the budget (so a timeout is not waited for twice).
RETRY_DELAYS = (0.2, 0.5, 1.0)
RETRY_BUDGET_SECONDS = 2.0

#: Invoice ``status`` → ours. ``partially_paid`` is not paid (the amount received is reported).
#: There is no ``expired``: an open invoice past its ``dueDate`` is expired by us.
STATUS_MAP = {
    "draft": "pending",
    "open": "pending",
    "partially_paid": "pending",
    "paid": "succeeded",
    "cancelled": "cancelled",
}


def canonical_json(body: dict) -> bytes:
    """The body as Paycashless hashes it: keys sorted (deeply), compact, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hmac_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA512 of ``message`` keyed with the API secret."""
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def request_signature(secret: str, path: str, timestamp: str, body: bytes | None) -> str:
    """``Request-Signature`` of one API call: lowercased path + body hash (if any) + timestamp."""
    message = path.lower()
    if body is not None:
        message += hmac_hex(secret, body)
    return hmac_hex(secret, (message + timestamp).encode())


def webhook_signature(secret: str, callback_url: str, data_json: str, timestamp: str) -> str:
    """``Request-Signature`` of a webhook: callback URL + hash of the compact ``data`` + timestamp."""
    data_hash = hmac_hex(secret, data_json.encode())
    return hmac_hex(secret, (callback_url + data_hash + timestamp).encode())


class Paycashless(PaymentProvider):
    name = "paycashless"
    display_name = "Paycashless"
    blurb = "Bank transfer, card, USSD (Nigeria)"
    pays_with = ("cards", "bank transfer")
    currencies = frozenset({"NGN", "USD"})
    credential_keys = ("api_key", "api_secret")
    #: The API host; request paths (``/v1/invoices``) are signed relative to it.
    default_base_url = "https://api.paycashless.com/"
    simulator_path = "paycashless/"

    # -- outbound calls -------------------------------------------------------------------

    def _headers(self, path: str, body: bytes | None) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "Authorization": f"Bearer {self.settings['api_key']}",
            "Request-Timestamp": timestamp,
            "Request-Signature": request_signature(self.settings["api_secret"], path, timestamp, body),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _call(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        """One signed call; the bytes sent are exactly the bytes hashed."""
        data = canonical_json(body) if body is not None else None
        hashed = data if data is not None else GET_BODY_TO_HASH
        return self.http.request(method, self.url(path), data=data, headers=self._headers(path, hashed))

    def _answer(self, response: requests.Response, action: str) -> dict:
        """The JSON object of a 2xx answer, or the refusal as our error."""
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if 200 <= response.status_code < 300 and isinstance(answer, dict):
            return answer
        raise refusal(response.status_code, answer, action)

    # -- create ---------------------------------------------------------------------------

    def create_body(self, request: CheckoutRequest) -> dict:
        """The seed's create-invoice body for one payment attempt (amounts in minor units)."""
        return {
            "reference": request.reference,
            "description": request.description,
            "currency": request.currency,
            "customer": {"email": request.customer_email, "name": request.customer_name},
            "items": invoice_items(request),
            "daysUntilDue": days_until_due(request.expires_at),
            "acceptPartialPayments": False,
            "sendEmail": False,
            "autoFinalize": True,
            "callbackUrl": request.callback_url,
            "returnUrl": request.return_url,
            "metadata": {"order_reference": request.order_reference, "payment_reference": request.reference},
        }

    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Create and finalize the invoice; store its id, send the browser to its page."""
        if request.currency not in self.currencies:
            raise ProviderError(f"Paycashless takes NGN and USD only, not {request.currency}")
        body = self.create_body(request)
        answer = self._answer(self._call("POST", INVOICES_PATH, body), "the invoice")
        invoice_id, link = str(answer.get("id") or ""), str(answer.get("hostedInvoiceUrl") or "")
        if not INVOICE_ID.match(invoice_id) or not self._is_own_page(link):
            raise ProviderError("Paycashless answered without a usable invoice id or payment URL")
        if answer.get("liveMode") is False and self.settings.get("live_only"):
            raise ProviderError("Paycashless answered in test mode (liveMode: false): PAYCASHLESS_API_KEY is "
                                "a sandbox key, and this shop takes live payments only")
        if answer.get("amountDue") != request.amount or answer.get("currency") != request.currency:
            raise ProviderError(
                f"Paycashless invoice is for {answer.get('amountDue')} {answer.get('currency')}, "
                f"not {request.amount} {request.currency}"
            )
        return HostedPayment(gateway_ref=invoice_id, redirect_url=link, raw=answer, sent=body)

    def _is_own_page(self, link: str) -> bool:
        """The payment page must be Paycashless's (or the configured API host's), never elsewhere."""
        page, base = urlsplit(link), urlsplit(self.settings["base_url"])
        host = page.hostname or ""
        own = host == HOSTED_DOMAIN or host.endswith("." + HOSTED_DOMAIN) or page.netloc == base.netloc
        return own and page.scheme in ("https", base.scheme)

    # -- webhooks -------------------------------------------------------------------------

    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """Verify a webhook's signature and age; what it says is then asked of the API."""
        payload = inbound.json()
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            raise InvalidCallback("no data object in the webhook")
        self._verify(inbound, data)
        event = str(payload.get("event") or "")
        invoice_id = invoice_id_of(data)
        claimed = "succeeded" if event == "INVOICE_PAID" else STATUS_MAP.get(str(data.get("status")))
        return CallbackNotice(
            reference=str(data["reference"]) if data.get("reference") else None,
            claimed_status=claimed,
            verified=False,  # signed, but the decision is GET /v1/invoices/{id}'s
            note=f"signature valid ({event or 'no event'} for {invoice_id or 'no invoice id'}); "
                 "confirmed with GET /v1/invoices/{id}",
            payload=payload,
            gateway_ref=invoice_id,
        )

    def _verify(self, inbound: Inbound, data: dict) -> None:
        """Raise InvalidCallback unless the webhook is fresh and signed with our secret."""
        signature = header(inbound, "Request-Signature")
        timestamp = header(inbound, "Request-Timestamp")
        if not signature or not timestamp.isdigit():
            raise InvalidCallback("unsigned webhook (Request-Signature / Request-Timestamp missing)")
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            raise InvalidCallback("stale webhook: Request-Timestamp is more than 5 minutes off")
        # The received key order, compact, non-ASCII kept: what JSON.stringify(data) gives.
        data_json = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        secret = self.settings["api_secret"]
        for reading in CALLBACK_URL_READINGS:
            expected = webhook_signature(secret, reading(inbound.url), data_json, timestamp)
            if hmac.compare_digest(expected, signature.strip().lower()):
                return
        raise InvalidCallback("bad webhook signature")

    # -- status ---------------------------------------------------------------------------

    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """``GET /v1/invoices/{id}`` with the id stored at creation, normalised."""
        if not payment.gateway_ref or not INVOICE_ID.match(payment.gateway_ref):
            raise ProviderError("no Paycashless invoice id stored for this payment")
        response = self._get_with_retries(f"{INVOICES_PATH}/{payment.gateway_ref}")
        invoice = self._answer(response, "the status check")
        if invoice.get("reference") not in (None, payment.reference):
            raise ProviderError("Paycashless invoice belongs to another payment reference")
        return status_report(invoice)

    def _get_with_retries(self, path: str) -> requests.Response:
        """GET ``path``, retrying 429 and 5xx a few times within RETRY_BUDGET_SECONDS."""
        started, delays = time.monotonic(), iter(RETRY_DELAYS)
        while True:
            try:
                return self._call("GET", path)  # 429 and 5xx raise ProviderUnavailable (base.py)
            except ProviderUnavailable as exc:
                error = exc
            delay = next(delays, None)
            if delay is None or time.monotonic() - started + delay > RETRY_BUDGET_SECONDS:
                raise error
            time.sleep(delay)


def refusal(status: int, answer, action: str) -> ProviderError:
    """Paycashless's error body (``error.type/code/message``) and HTTP status as our error."""
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or error.get("type") or "no code")[:60]
    message = str(error.get("message") or "no reason given")[:200]
    if status == 401:
        return ProviderError(f"Paycashless refused our API key or signature ({code}): {message}")
    if status == 404:
        return ProviderError(f"Paycashless has no such invoice ({code})")
    if status == 409:
        return ProviderError(f"Paycashless reports a conflict for {action} ({code}): {message}")
    if status in (400, 422):
        return ProviderError(f"Paycashless rejected {action} ({code}): {message}")
    return ProviderError(f"Paycashless answered HTTP {status} to {action} ({code}): {message}")


def status_report(invoice: dict) -> StatusReport:
    """An invoice object normalised; amounts are checked by the shop against ours."""
    raw_status = str(invoice.get("status"))
    status = STATUS_MAP.get(raw_status)
    if status is None:  # kept open and flagged by the shop, never a 503 forever
        due = invoice.get("amountDue")
        currency = invoice.get("currency")
        return StatusReport(status="pending", amount=due if is_int(due) else None,
                            currency=currency if isinstance(currency, str) else None, raw=invoice,
                            note=f"Paycashless invoice {raw_status[:60]}", unknown_status=raw_status[:60])
    due, paid = invoice.get("amountDue"), invoice.get("amountPaid")
    due = due if is_int(due) else None
    paid = paid if is_int(paid) else None
    note = f"Paycashless invoice {raw_status}"
    if status == "succeeded" and (paid is None or due is None or paid < due):
        status, note = "pending", f"Paycashless says paid but reports {paid} of {due} received"
    elif raw_status in ("draft", "open") and past(invoice.get("dueDate")):
        status, note = "expired", "Paycashless invoice open past its dueDate"
    currency = invoice.get("currency")
    return StatusReport(status=status, amount=due, currency=currency if isinstance(currency, str) else None,
                        raw=invoice, note=note, amount_received=paid, test_mode=invoice.get("liveMode") is False)


def invoice_items(request: CheckoutRequest) -> list[dict]:
    """At most MAX_ITEMS lines whose prices add up to the amount; the tail is merged into one."""
    lines = list(billable_lines(request))  # lines that do not add up (a discount): one line
    if len(lines) <= MAX_ITEMS:
        return [item(l.name, l.quantity, l.unit_price) for l in lines]
    head, tail = lines[: MAX_ITEMS - 1], lines[MAX_ITEMS - 1:]
    merged = item(f"{len(tail)} more items", 1, sum(l.total for l in tail))
    merged["description"] = ", ".join(f"{l.quantity} × {l.name}" for l in tail)[:500]
    return [*(item(l.name, l.quantity, l.unit_price) for l in head), merged]


def item(name: str, quantity: int, price: int) -> dict:
    """One invoice line; ``price`` is the unit price in minor units (an integer)."""
    return {"name": name[:200], "quantity": int(quantity), "price": int(price)}


def days_until_due(expires_at: datetime) -> int:
    """Whole days until our order expires, within what Paycashless allows (1 to 1800)."""
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=timezone.utc)
    seconds = (expires_at - datetime.now(timezone.utc)).total_seconds()
    return min(MAX_DAYS_UNTIL_DUE, max(1, math.ceil(seconds / 86400)))


def invoice_id_of(data: dict) -> str | None:
    """The invoice a webhook is about: ``invoiceId`` (payment events) or the invoice's own ``id``."""
    value = data.get("invoiceId") or (data.get("id") if str(data.get("id", "")).startswith("inv_") else None)
    return str(value) if value else None


def header(inbound: Inbound, name: str) -> str:
    """A request header, whatever its case."""
    wanted = name.lower()
    return next((str(v) for k, v in inbound.headers.items() if k.lower() == wanted), "")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def past(value) -> bool:
    """Whether an ISO 8601 date-time (``2023-11-07T05:31:56Z``) is in the past."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment < datetime.now(timezone.utc)
