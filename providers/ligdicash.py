"""LigdiCash (Burkina Faso and UEMOA, XOF): hosted "payin with redirection".

Create: ``POST redirect/checkout-invoice/create`` (seed 000). Callbacks are
unsigned and arrive twice per event (JSON and form), so they are only hints:
the outcome is taken from ``confirm`` with the token stored at creation.
"""
from __future__ import annotations

import json
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

CREATE_PATH = "redirect/checkout-invoice/create"
# The docs show both ``token`` and ``invoiceToken``; every official SDK sends invoiceToken.
CONFIRM_PATH = "redirect/checkout-invoice/confirm/"
CONFIRM_PARAM = "invoiceToken"

#: LigdiCash ``status`` → ours, every spelling we have seen. Failed-or-cancelled is spelled
#: ``notcompleted`` in the docs' examples (seed 000, developers.ligdicash.com) but
#: ``nocompleted`` in the official SDKs' types (ligdicash-javascript ``src/types/responses.ts``,
#: ligdicash-dart ``lib/src/responses.dart``): both mean failed. Read case-insensitively.
#: Anything else is kept open and flagged (docs/gateways/ligdicash.md).
STATUS_MAP = {
    "completed": "succeeded",
    "pending": "pending",
    "notcompleted": "failed",
    "nocompleted": "failed",
}


def read_status(value) -> str | None:
    """Our status for LigdiCash's ``status`` value, or None when we do not know it."""
    if not isinstance(value, str):
        return None
    return STATUS_MAP.get(value.strip().lower())


class LigdiCash(PaymentProvider):
    name = "ligdicash"
    display_name = "LigdiCash"
    blurb = "Orange Money, Moov Money, Wave, bank card"
    pays_with = ("Orange Money", "Moov Money", "Wave", "cards")
    currencies = frozenset({"XOF"})
    credential_keys = ("api_key", "api_token")
    default_base_url = "https://app.ligdicash.com/pay/v01/"
    simulator_path = "ligdicash/pay/v01/"
    # LigdiCash: "Do not go below 3 seconds between two confirm calls" (payments/pacing.py).
    min_check_seconds = 3.0

    def _headers(self) -> dict[str, str]:
        return {
            "Apikey": self.settings["api_key"],
            "Authorization": f"Bearer {self.settings['api_token']}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def create_body(self, request: CheckoutRequest) -> dict:
        """The seed's create-invoice body for one payment attempt."""
        first, _, last = request.customer_name.strip().partition(" ")
        items = [
            {
                "name": line.name,
                "description": "",
                "quantity": line.quantity,
                "unit_price": whole_units(line.unit_price, request.currency),
                "total_price": whole_units(line.total, request.currency),
            }
            for line in billable_lines(request)
        ]
        return {
            "commande": {
                "invoice": {
                    "items": items,
                    "total_amount": whole_units(request.amount, request.currency),
                    "devise": request.currency,
                    "description": request.description,
                    # Must stay empty: a phone number here filters the operators shown.
                    "customer": "",
                    "customer_firstname": first,
                    "customer_lastname": last,
                    "customer_email": request.customer_email,
                    "external_id": "",
                    "otp": "",
                },
                "store": {"name": request.store_name, "website_url": request.store_url},
                "actions": {
                    "cancel_url": request.cancel_url,
                    "return_url": request.return_url,
                    "callback_url": request.callback_url,
                },
                "custom_data": {"transaction_id": request.reference},
            }
        }

    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Create the invoice; the token is needed later for ``confirm``."""
        if request.currency not in self.currencies:
            raise ProviderError(f"LigdiCash takes XOF only, not {request.currency}")
        body = self.create_body(request)
        answer = self.http.json("POST", self.url(CREATE_PATH), json=body, headers=self._headers())
        if not isinstance(answer, dict) or answer.get("response_code") != "00":
            text = answer.get("response_text", "") if isinstance(answer, dict) else ""
            raise ProviderError(f"LigdiCash refused the invoice: {text or 'no reason given'}")
        token, link = answer.get("token") or "", answer.get("response_text") or ""
        if not token or not self._is_own_page(link):
            raise ProviderError("LigdiCash answered without a usable token or payment URL")
        return HostedPayment(gateway_ref=token, redirect_url=link, raw=answer, sent=body)

    def _is_own_page(self, link: str) -> bool:
        """A payment URL must be on LigdiCash's own host (never redirect elsewhere)."""
        page, base = urlsplit(link), urlsplit(self.settings["base_url"])
        return page.scheme in ("https", base.scheme) and page.netloc == base.netloc

    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """Read either variant (JSON or form); unsigned, so never verified."""
        if inbound.content_type.startswith("application/json"):
            payload = inbound.json()
        else:
            payload = dict(inbound.form)
        if not isinstance(payload, dict):
            raise InvalidCallback("payload is not an object")
        reference = transaction_id(payload.get("custom_data"))
        if not reference:
            raise InvalidCallback("no transaction_id in custom_data")
        return CallbackNotice(
            reference=reference,
            claimed_status=read_status(payload.get("status")),
            verified=False,
            note="LigdiCash callbacks are unsigned: confirmed with the gateway",
            payload=payload,
        )

    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """Ask ``confirm`` with the token from creation (never the callback's)."""
        if not payment.gateway_ref:
            raise ProviderError("no LigdiCash token stored for this payment")
        answer = self.http.json(
            "GET",
            self.url(CONFIRM_PATH),
            params={CONFIRM_PARAM: payment.gateway_ref},
            headers=self._headers(),
        )
        if not isinstance(answer, dict) or answer.get("response_code") != "00":
            text = answer.get("response_text", "") if isinstance(answer, dict) else ""
            raise ProviderError(f"LigdiCash confirm failed: {text or 'no reason given'}")
        raw_status = answer.get("status")
        status = read_status(raw_status)
        return StatusReport(
            status=status or "pending",
            amount=whole_amount(answer.get("amount", answer.get("montant"))),
            currency="XOF",
            raw=answer,
            note="" if status else f"LigdiCash gave an unknown status {str(raw_status)[:60]!r}",
            unknown_status=None if status else str(raw_status)[:60],
        )


def transaction_id(custom_data) -> str | None:
    """Our reference from ``custom_data``: an array of key/value entries, a JSON
    string of it (form variant), or the plain object we sent."""
    if isinstance(custom_data, str):
        try:
            custom_data = json.loads(custom_data)
        except ValueError:
            return None
    if isinstance(custom_data, dict):
        value = custom_data.get("transaction_id")
        return str(value) if value else None
    if isinstance(custom_data, list):
        for entry in custom_data:
            if isinstance(entry, dict) and entry.get("keyof_customdata") == "transaction_id":
                return str(entry.get("valueof_customdata") or "") or None
    return None


def whole_amount(value) -> int | None:
    """An XOF amount from ``confirm``: an integer, or a string of digits (payout style), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None
