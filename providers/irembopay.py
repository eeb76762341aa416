"""IremboPay (Rwanda; RWF, EUR, GBP, USD): invoices paid on IremboPay's hosted page.

Create: ``POST /payments/invoices`` (seed 001) with ``irembopay-secretKey`` and
``X-API-Version: 2``. The currency is set by the payment account, so one account
is configured per currency. IremboPay never sends the browser back; it posts a
signed notification to the one callback URL set in its portal
(``irembopay-signature: t=<ms>,s=<hex>``, HMAC-SHA256 over ``t#raw body``), and
``GET /payments/invoices/{transactionId}`` gives an invoice's status.
Notes: ``docs/gateways/irembopay.md``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from .base import (
    EXPONENTS,
    CallbackNotice,
    CheckoutRequest,
    HostedPayment,
    Inbound,
    InvalidCallback,
    PaymentProvider,
    PaymentRef,
    ProviderError,
    StatusReport,
    to_major,
)

INVOICES_PATH = "payments/invoices"
API_VERSION = "2"
SIGNATURE_HEADER = "irembopay-signature"
#: IremboPay's ``paymentStatus`` → ours. Only NEW and PAID are documented for API v2;
#: there is no EXPIRED status: a NEW invoice past its ``expiryAt`` is expired on our side.
STATUS_MAP = {"PAID": "succeeded", "NEW": "pending"}
LANGUAGES = {"fr": "FR", "en": "EN", "rw": "RW"}
DEFAULT_TOLERANCE_SECONDS = 300
#: Hosts the payment link may be on besides the API's own (the docs do not list them;
#: integrations in the wild see checkout.irembopay.com and checkout.sandbox.irembopay.com).
PAYMENT_PAGE_DOMAIN = "irembopay.com"
#: ``customer.phoneNumber`` is documented as "Integer" but shown as ``07XXXXXXXX``; other
#: shapes give BAD_CUSTOMER_CONTACT, so we send Rwandan numbers in that form and omit the rest.
RWANDA_PREFIX = "+2507"


class IremboPay(PaymentProvider):
    name = "irembopay"
    looks_up_by_reference = True  # Get Invoice takes our transactionId
    display_name = "IremboPay"
    blurb = "MTN MoMo, Airtel Money, bank card"
    pays_with = ("MTN MoMo", "Airtel Money", "cards")
    currencies = frozenset({"RWF", "EUR", "GBP", "USD"})
    credential_keys = ("secret_key", "default_product_code")
    option_defaults = {
        "account_rwf": "",
        "account_usd": "",
        "account_eur": "",
        "account_gbp": "",
        "signature_tolerance_seconds": str(DEFAULT_TOLERANCE_SECONDS),
    }
    default_base_url = "https://api.irembopay.com/"
    simulator_path = "irembopay/"
    returns_browser = False

    @classmethod
    def accepts(cls, settings: dict[str, str], currency: str) -> bool:
        """Only currencies with a payment account configured (the account sets the currency)."""
        return currency in cls.currencies and bool(account_for(settings, currency))

    def _headers(self) -> dict[str, str]:
        return {
            "irembopay-secretKey": self.settings["secret_key"],
            "X-API-Version": API_VERSION,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    # --- create -------------------------------------------------------------

    def create_body(self, request: CheckoutRequest) -> dict:
        """The seed's create-invoice body for one payment attempt."""
        body: dict[str, Any] = {
            "transactionId": request.reference,
            "paymentAccountIdentifier": account_for(self.settings, request.currency),
            "paymentItems": self.payment_items(request),
            "expiryAt": expiry_at(request.expires_at),
            "description": request.description[:200],
            "customer": customer(request),
        }
        if request.language in LANGUAGES:
            body["language"] = LANGUAGES[request.language]
        return body

    def payment_items(self, request: CheckoutRequest) -> list[dict]:
        """Lines with the merchant's product code as their own items; everything else
        (lines without a code, any difference to the total) as one default-code item."""
        coded = [line for line in request.lines if line.product_code]
        rest = request.amount - sum(line.total for line in coded)
        if rest < 0:  # a discount larger than the uncoded lines: bill the order as one line
            coded, rest = [], request.amount
        items = [item(line.product_code or "", line.quantity, line.unit_price, request.currency)
                 for line in coded]  # every coded line has a code: `or ""` only tells mypy
        if rest:
            items.append(item(self.settings["default_product_code"], 1, rest, request.currency))
        return items

    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Create the invoice; store its number and send the customer to its payment link."""
        if not self.accepts(self.settings, request.currency):
            raise ProviderError(f"IremboPay has no payment account configured for {request.currency}")
        body = self.create_body(request)
        response = self.http.request("POST", self.url(INVOICES_PATH), json=body, headers=self._headers())
        data = self._data(response, "refused the invoice")
        number, link = str(data.get("invoiceNumber") or ""), str(data.get("paymentLinkUrl") or "")
        if not number or not self._is_own_page(link):
            raise ProviderError("IremboPay answered without a usable invoice number or payment link")
        self._check_invoice(data, request)
        return HostedPayment(gateway_ref=number, redirect_url=link, raw=plain(data), sent=body)

    def _check_invoice(self, data: dict, request: CheckoutRequest) -> None:
        """The account decides the currency: refuse an invoice in another currency or amount."""
        if data.get("currency") != request.currency:
            raise ProviderError(
                f"IremboPay payment account {data.get('paymentAccountIdentifier')!r} is in "
                f"{data.get('currency')}, not {request.currency}: check IREMBOPAY_ACCOUNT_"
                f"{request.currency}")
        if minor_units(data.get("amount"), request.currency) != request.amount:
            raise ProviderError(f"IremboPay made an invoice of {data.get('amount')} {request.currency}, "
                                f"not {to_major(request.amount, request.currency)}")

    def _is_own_page(self, link: str) -> bool:
        """The payment link must be on IremboPay's domain or the API's host (never elsewhere)."""
        page, base = urlsplit(link), urlsplit(self.settings["base_url"])
        if page.scheme == "https" and (page.hostname or "").endswith("." + PAYMENT_PAGE_DOMAIN):
            return True
        return page.scheme in ("https", base.scheme) and page.netloc == base.netloc

    # --- answers ------------------------------------------------------------

    def _data(self, response: requests.Response, doing: str) -> dict:
        """The ``data`` of a successful answer, or ProviderError naming IremboPay's error codes."""
        try:
            answer = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise ProviderError(f"IremboPay answered HTTP {response.status_code} with no JSON") from None
        if not isinstance(answer, dict):
            raise ProviderError(f"IremboPay answered HTTP {response.status_code} with no object")
        if response.status_code >= 300 or answer.get("success") is not True:
            raise ProviderError(f"IremboPay {doing} (HTTP {response.status_code}): {error_text(answer)}")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise ProviderError("IremboPay answered without data")
        return data

    # --- notifications ------------------------------------------------------

    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """Verify the signature (raw body, ms timestamp, tolerance), then read the invoice."""
        self.verify_signature(inbound)
        try:
            payload = json.loads(inbound.body, parse_float=Decimal)
        except ValueError:
            raise InvalidCallback("body is not JSON") from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or not data.get("transactionId"):
            raise InvalidCallback("no data.transactionId in the notification")
        currency = data.get("currency")
        currency = currency if currency in self.currencies else None
        status = str(data.get("paymentStatus", ""))
        amount = minor_units(data.get("amount"), currency) if currency else None
        # The documented sample carries neither currency nor paymentStatus: a notice that does not
        # say what, how much and in which currency is confirmed with Get Invoice instead.
        complete = currency is not None and amount is not None and status in STATUS_MAP
        missing = "" if complete else "; status, amount or currency absent: confirmed with Get Invoice"
        return CallbackNotice(
            reference=str(data["transactionId"])[:40],
            claimed_status=STATUS_MAP.get(status) if complete else None,
            verified=True,
            note=f"IremboPay signature verified (invoice {str(data.get('invoiceNumber', ''))[:20]}, "
                 f"{status or 'no status'}){missing}",
            payload=plain(payload),
            amount=amount,
            currency=currency,
            gateway_ref=str(data["invoiceNumber"])[:60] if data.get("invoiceNumber") else None,
        )

    def verify_signature(self, inbound: Inbound) -> None:
        """Raise InvalidCallback unless ``irembopay-signature`` signs this exact body, recently."""
        secret = self.settings.get("secret_key", "")
        if not secret:  # fail closed: never accept what we cannot check
            raise InvalidCallback("no IremboPay secret key configured")
        header = header_value(inbound.headers, SIGNATURE_HEADER)
        if not header:
            raise InvalidCallback(f"no {SIGNATURE_HEADER} header")
        timestamp, signature = parse_signature_header(header)
        if not timestamp.isdigit() or not signature:
            raise InvalidCallback(f"malformed {SIGNATURE_HEADER} header")
        age_ms = abs(time.time() * 1000 - int(timestamp))
        if age_ms > self._tolerance() * 1000:
            raise InvalidCallback("signature timestamp outside the tolerance (stale or not in ms)")
        expected = sign(secret, timestamp, inbound.body)
        if not hmac.compare_digest(expected, signature.lower()):
            raise InvalidCallback("bad signature")

    def _tolerance(self) -> int:
        raw = self.settings.get("signature_tolerance_seconds", "")
        return int(raw) if str(raw).isdigit() else DEFAULT_TOLERANCE_SECONDS

    # --- status -------------------------------------------------------------

    def find_by_reference(self, payment: PaymentRef) -> HostedPayment | None:
        """Get Invoice takes "the unique transaction identifier provided by the merchant":
        404 means IremboPay never opened one under our reference."""
        url = self.url(f"{INVOICES_PATH}/{quote(payment.reference, safe='')}")
        response = self.http.request("GET", url, headers=self._headers())
        if response.status_code == 404:
            return None
        data = self._data(response, "could not look the invoice up")
        if str(data.get("transactionId", payment.reference)) != payment.reference:
            raise ProviderError("IremboPay answered with another payment's invoice")
        number, link = str(data.get("invoiceNumber") or ""), str(data.get("paymentLinkUrl") or "")
        if not number:
            raise ProviderError("IremboPay answered without an invoice number")
        return HostedPayment(gateway_ref=number, redirect_url=link if self._is_own_page(link) else "",
                             raw=plain(data))

    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """Get Invoice by our ``transactionId``; NEW past ``expiryAt`` is expired."""
        url = self.url(f"{INVOICES_PATH}/{quote(payment.reference, safe='')}")
        data = self._data(self.http.request("GET", url, headers=self._headers()), "could not find the invoice")
        state = str(data.get("paymentStatus", ""))
        status = STATUS_MAP.get(state)
        if status == "pending" and is_past(data.get("expiryAt")):
            status = "expired"
        currency = data.get("currency") if data.get("currency") in self.currencies else None
        return StatusReport(
            status=status or "pending",  # an unknown status keeps the payment open, flagged
            amount=minor_units(data.get("amount"), currency) if currency else None,
            currency=currency,
            raw=plain(data),
            note=f"IremboPay invoice {str(data.get('invoiceNumber', ''))[:20]} is {state}",
            unknown_status=None if status else state[:60],
        )


def plain(data: Any) -> Any:
    """``data`` with its Decimals as strings, for the payment's event log."""
    return json.loads(json.dumps(data, default=str))


def account_for(settings: dict[str, str], currency: str) -> str:
    """The payment account configured for ``currency`` ("" when none)."""
    return settings.get(f"account_{currency.lower()}", "") or ""


def major(amount: int, currency: str) -> int | float:
    """Minor units as the JSON number IremboPay wants (its amounts are doubles, in major units).

    A whole amount goes as an integer; otherwise the float of a decimal with at most
    two places, whose JSON text is exactly that decimal (it is never computed with).
    """
    value = to_major(amount, currency)
    return int(value) if value == value.to_integral_value() else float(value)


def item(code: str, quantity: int, unit_price: int, currency: str) -> dict:
    return {"code": code, "quantity": quantity, "unitAmount": major(unit_price, currency)}


def minor_units(value: Any, currency: str) -> int | None:
    """IremboPay's major-unit amount as our minor units; None when it is not exact."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        return None
    try:
        minor = Decimal(value).scaleb(EXPONENTS[currency])
    except (InvalidOperation, ValueError):
        return None
    return int(minor) if minor.is_finite() and minor == minor.to_integral_value() else None


def expiry_at(moment: datetime) -> str:
    """The documented format, e.g. ``2022-11-27T16:24:51.000+02:00`` (we send UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def is_past(value: Any) -> bool:
    """Whether an IremboPay date (``…+02:00`` or ``…+02``) is in the past."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment <= datetime.now(timezone.utc)


def customer(request: CheckoutRequest) -> dict:
    """Who IremboPay notifies about the invoice."""
    found = {"name": request.customer_name[:100], "email": request.customer_email}
    phone = request.customer_phone.replace(" ", "")
    if phone.startswith(RWANDA_PREFIX) and len(phone) == len(RWANDA_PREFIX) + 8:
        found["phoneNumber"] = "0" + phone[len("+250"):]
    return found


def error_text(answer: dict) -> str:
    """``CODE (detail)`` for each of IremboPay's errors, else its message."""
    errors = answer.get("errors")
    parts = []
    if isinstance(errors, list):
        for error in errors[:5]:
            if isinstance(error, dict):
                code, detail = str(error.get("code", ""))[:60], str(error.get("detail", ""))[:120]
                parts.append(f"{code} ({detail})" if detail else code)
    return "; ".join(parts) or str(answer.get("message") or "no reason given")[:200]


def header_value(headers: dict[str, str], name: str) -> str:
    """A header's value, whatever the case of its name."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def parse_signature_header(header: str) -> tuple[str, str]:
    """``t=<ms>,s=<hex>`` (spaces allowed around parts) as (t, s)."""
    parts = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    return parts.get("t", ""), parts.get("s", "")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256(secret, ``t#body``), lowercase hex: what IremboPay puts in ``s``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"#" + body, hashlib.sha256).hexdigest()
