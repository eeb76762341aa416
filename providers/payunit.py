"""PayUnit (Cameroon and CEMAC, XAF): the Invoice API, type NORMAL.

Create: ``POST /api/gateway/invoice/create`` (seed 003). The invoice has no
merchant-reference field, so our payment reference travels in the
``callback_url`` path. Callbacks are unsigned and their payload is not
documented: whatever arrives is a hint, and the outcome comes from the invoice
status API with the ``uuid`` stored at creation. The ``callback_url`` is also
where PayUnit sends the customer's browser after paying (seed 003: "The URL
where the customer will be redirected after the payment"): the shop answers a
GET there as a return landing and a POST as a server notification.
"""
from __future__ import annotations

import base64
from datetime import timezone
from urllib.parse import urlsplit

from .base import (
    CallbackNotice,
    CheckoutRequest,
    HostedPayment,
    Inbound,
    InvalidCallback,
    PaymentProvider,
    PaymentRef,
    ProviderError,
    StatusReport,
    billable_lines,
    whole_units,
)

CREATE_PATH = "api/gateway/invoice/create"
# Documented as {BASE_URL}/invoice/get/{uuid}, without the /api/gateway prefix every
# other endpoint has; which form the live server accepts is not verified.
STATUS_PATH = "invoice/get/{uuid}"
# The payment link in the docs is on a CloudFront host, not the API host; these are the
# hosts we accept a redirect to (besides the API's own). Unverified beyond the docs' example.
PAGE_HOSTS = frozenset({"d1im41dw2xzw4q.cloudfront.net", "pu.payunit.net", "gateway.payunit.net"})
# Only UNPAID is documented; paid is judged on the amounts, never on the status text.
UNPAID = "UNPAID"
#: Hosts of a local simulator: the only place a plain-http callback URL may be sent.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: The seed's ``mode`` header: "Live or test". We send it lower case, whatever the setting's case.
MODES = ("test", "live")
#: Seed 003 pairs ``x-api-key: live_xxxxxxxxxxxxxxx`` with ``mode: live``: the key's prefix names its mode.
KEY_PREFIXES = {"live_": "live", "test_": "test", "sandbox_": "test"}


def key_mode(api_key: str) -> str | None:
    """The mode an API key's prefix names (``live_…`` → live), or None when it names none."""
    key = (api_key or "").strip().lower()
    return next((mode for prefix, mode in KEY_PREFIXES.items() if key.startswith(prefix)), None)


class PayUnit(PaymentProvider):
    name = "payunit"
    display_name = "PayUnit"
    blurb = "MTN Mobile Money, Orange Money (Cameroun)"
    pays_with = ("MTN MoMo", "Orange Money")
    currencies = frozenset({"XAF"})
    credential_keys = ("api_user", "api_password", "api_key")
    #: PAYUNIT_MODE: empty follows the key's prefix (seed 003); production refuses to guess.
    option_defaults = {"mode": ""}
    default_base_url = "https://gateway.payunit.net/"
    simulator_path = "payunit/"
    # The browser comes back, to callback_url (seed 003): a GET there is a return landing.
    returns_browser = True
    browser_returns_to_callback = True

    def _headers(self) -> dict[str, str]:
        pair = f"{self.settings['api_user']}:{self.settings['api_password']}".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "x-api-key": self.settings["api_key"],
            "mode": self.mode(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    @classmethod
    def settings_problem(cls, settings: dict[str, str], production: bool) -> str | None:
        """PAYUNIT_MODE must agree with the key; in production it must be known, never assumed."""
        explicit = (settings.get("mode") or "").strip().lower()
        if explicit and explicit not in MODES:
            return f"PAYUNIT_MODE must be live or test, not {explicit[:10]!r}"
        by_key = key_mode(settings.get("api_key", ""))
        if explicit and by_key and explicit != by_key:
            return f"PAYUNIT_MODE is {explicit} but PAYUNIT_API_KEY is a {by_key} key: make them agree"
        if production and not (explicit or by_key):
            return ("set PAYUNIT_MODE to live (or test): PAYUNIT_API_KEY does not say which, and "
                    "production never assumes test mode")
        return None

    def mode(self) -> str:
        """``live`` or ``test``: PAYUNIT_MODE (any case), else what the key's prefix says, else
        test (outside production only: production refuses to start without one of them)."""
        mode = (self.settings.get("mode") or key_mode(self.settings.get("api_key", "")) or "test")
        mode = mode.strip().lower()
        if mode not in MODES:
            raise ProviderError(f"PAYUNIT_MODE must be test or live, not {mode[:10]!r}")
        return mode

    def create_body(self, request: CheckoutRequest) -> dict:
        """The seed's NORMAL invoice for one payment attempt, amounts in whole francs."""
        due = request.expires_at.astimezone(timezone.utc)
        return {
            "client_name": request.customer_name,
            "client_email": request.customer_email,
            "client_phone_number": request.customer_phone,
            "due_date": due.strftime("%Y-%m-%dT%H:%M:%S.") + f"{due.microsecond // 1000:03d}Z",
            "partial_payment": False,
            "type": "NORMAL",
            "currency": request.currency,
            "callback_url": request.callback_url,
            "items": [
                {"name": line.name, "amount": whole_units(line.unit_price, request.currency),
                 "quantity": line.quantity}
                for line in billable_lines(request)
            ],
        }

    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Create the invoice; store its uuid (status API) and ref (what PayUnit shows)."""
        if request.currency not in self.currencies:
            raise ProviderError(f"PayUnit takes XAF only, not {request.currency}")
        # Seed 003: "All URLs must utilize HTTPS protocol { callback_url, logo }", in every mode;
        # only the built-in simulator (development, tests) is exempt.
        if not request.callback_url.startswith("https://") and not self._towards_local_simulator():
            raise ProviderError("PayUnit refuses a callback URL that is not HTTPS: set PUBLIC_BASE_URL "
                                "to the shop's https:// address")
        body = self.create_body(request)
        answer = self.http.json("POST", self.url(CREATE_PATH), json=body, headers=self._headers())
        data = _data(answer, "create the invoice")
        invoice = data.get("invoice") or {}
        uuid, link = str(invoice.get("uuid") or ""), str(data.get("link") or "")
        if not uuid or not self._is_payment_page(link):
            raise ProviderError("PayUnit answered without an invoice uuid or a usable payment link")
        return HostedPayment(gateway_ref=uuid, redirect_url=link, raw=answer, sent=body,
                             gateway_ref2=str(invoice.get("ref") or ""))

    def _towards_local_simulator(self) -> bool:
        """The built-in simulator, or a base URL on this machine (development and tests)."""
        host = urlsplit(self.settings["base_url"]).hostname or ""
        return bool(self.settings.get("simulated")) or host in LOOPBACK

    def _is_payment_page(self, link: str) -> bool:
        page, base = urlsplit(link), urlsplit(self.settings["base_url"])
        if page.netloc == base.netloc:
            return page.scheme in ("https", base.scheme)
        return page.scheme == "https" and page.netloc in PAGE_HOSTS

    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """Any body is a hint; the payment is named by the callback URL's path."""
        if not inbound.path_reference:
            raise InvalidCallback("no payment reference in the callback URL")
        payload = _loose_payload(inbound)
        claimed = str(payload.get("transaction_status") or payload.get("status") or "") or None
        return CallbackNotice(
            reference=None, claimed_status=None, verified=False, payload=payload,
            note=f"PayUnit callbacks are unsigned (claims {claimed or 'nothing'}): "
                 "confirmed with the invoice API",
        )

    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """Read the invoice: paid when ``amount_paid`` reaches ``total_amount``."""
        if not payment.gateway_ref:
            raise ProviderError("no PayUnit invoice uuid stored for this payment")
        answer = self.http.json("GET", self.url(STATUS_PATH.format(uuid=payment.gateway_ref)),
                                headers=self._headers())
        invoice = _data(answer, "read the invoice")
        total, paid = _amount(invoice.get("total_amount")), _amount(invoice.get("amount_paid"))
        if total is None or paid is None:  # kept open and flagged by the shop, never a 503 forever
            odd = f"amounts {str(invoice.get('total_amount'))[:20]!r}/{str(invoice.get('amount_paid'))[:20]!r}"
            return StatusReport(status="pending", amount=None, currency=None, raw=answer,
                                note=f"PayUnit invoice with unreadable {odd}", unknown_status=odd)
        status = "succeeded" if total > 0 and paid >= total else "pending"
        currency = str(invoice.get("currency") or "")
        state = str(invoice.get("status") or "")
        return StatusReport(
            status=status, amount=total, currency=currency or None, raw=answer,
            amount_received=paid,
            note="" if state in (UNPAID, "") or status == "succeeded" else f"PayUnit status {state}",
        )


def _data(answer, action: str) -> dict:
    """The ``data`` of a SUCCESS envelope, or ProviderError with PayUnit's message."""
    if not isinstance(answer, dict):
        raise ProviderError(f"PayUnit could not {action}: unreadable answer")
    if answer.get("status") != "SUCCESS" or not isinstance(answer.get("data"), dict):
        message = str(answer.get("message") or "no reason given")[:200]
        raise ProviderError(f"PayUnit could not {action}: {message} ({answer.get('statusCode')})")
    return answer["data"]


def _amount(value) -> int | None:
    """PayUnit amounts arrive as integers or as strings of digits (whole francs)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _loose_payload(inbound: Inbound) -> dict:
    """Whatever the callback carried, as a dict, for the event log."""
    if inbound.form:
        return dict(inbound.form)
    try:
        data = inbound.json()
    except InvalidCallback:
        return {"raw": inbound.body[:2000].decode("utf-8", "replace")}
    return data if isinstance(data, dict) else {"raw": data}
