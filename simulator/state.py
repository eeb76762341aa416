"""The simulator's memory: invoices it has opened and the faults it is told to play."""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from flask import current_app

#: Faults each gateway can be told to play, with their defaults.
DEFAULT_FAULTS: dict[str, Any] = {
    # "", "http500", "timeout" (opened, answered too late), "hang" (never answered, nothing
    # opened: HANG_SECONDS then 504), "refuse", "malformed", "html"
    "create": "",
    "callbacks": "both",  # "both", "json", "form", "none"
    "callback_delay": 0,  # seconds before callbacks are sent (in a thread)
    # "", "http500", "http429" (with Retry-After: RETRY_AFTER), "timeout", or "odd" (LigdiCash,
    # PayUnit: a 200 whose status and amounts have types and values the docs never show)
    "status": "",
    "amount_delta": 0,  # added to the amount the status API reports
    # LigdiCash: 1 = refuse a confirm less than 3 s after the previous one for the invoice (429)
    "confirm_pacing": 0,
    # LigdiCash: the status a declined payment reports: "" (notcompleted, as the docs' examples),
    # "nocompleted" (the official SDKs' spelling) or any other word (an unknown status)
    "failure_status": "",
    # IremboPay: the payment notification with every invoice field ("full") or only the
    # documented sample's ("documented": no currency, no paymentStatus)
    "notice_fields": "full",
    # Paycashless: the ``liveMode`` its objects carry (the simulator's key is a sandbox key)
    "live_mode": False,
    # FCFPay: what the market rate takes off each deposit's fiat value, in basis points
    "rate_slippage_bp": 25,
}


@dataclass
class SimInvoice:
    gateway: str
    token: str
    reference: str
    amount: int  # as the gateway counts it (whole francs for LigdiCash)
    currency: str
    request: dict
    status: str
    callback_url: str = ""
    return_url: str = ""
    cancel_url: str = ""
    payer_phone: str = ""
    #: The hosted payment page's path on the simulator.
    page_path: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    deliveries: list[str] = field(default_factory=list)
    #: When the shop asked the status API about this invoice (``time.time()``), oldest first.
    status_checks: list[float] = field(default_factory=list)


@dataclass
class SimText:
    """One text the simulated SMS API accepted."""

    to: str
    message: str
    sender: str
    message_id: str
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


Invoice = TypeVar("Invoice", bound=SimInvoice)  # add() gives back the gateway's own kind


class SimState:
    """Thread-safe store of simulated invoices and faults."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invoices: dict[str, SimInvoice] = {}
        self.faults: dict[str, dict[str, Any]] = {}
        self.texts: list[SimText] = []
        #: The SMS API's fault: "" (none), "http500", "blacklist".
        self.sms_fault = ""

    def reset(self) -> None:
        """Forget every invoice, text and fault."""
        with self.lock:
            self.invoices.clear()
            self.faults.clear()
            self.texts.clear()
            self.sms_fault = ""

    def add_text(self, text: SimText) -> None:
        with self.lock:
            self.texts.append(text)

    def texts_sent(self) -> list[SimText]:
        with self.lock:
            return list(self.texts)

    def faults_for(self, gateway: str) -> dict[str, Any]:
        """The faults currently set for ``gateway`` (defaults filled in)."""
        return {**DEFAULT_FAULTS, **self.faults.get(gateway, {})}

    def set_faults(self, gateway: str, **faults: Any) -> None:
        """Tell ``gateway`` to misbehave (unknown names are refused)."""
        unknown = set(faults) - set(DEFAULT_FAULTS)
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        with self.lock:
            self.faults.setdefault(gateway, {}).update(faults)

    def add(self, invoice: Invoice) -> Invoice:
        with self.lock:
            self.invoices[invoice.token] = invoice
        return invoice

    def get(self, token: str) -> SimInvoice | None:
        with self.lock:
            return self.invoices.get(token)

    def new_token(self, prefix: str = "") -> str:
        return prefix + secrets.token_urlsafe(24)


STATE = SimState()


#: The ``Retry-After`` the simulated gateways send with a 429, in seconds.
RETRY_AFTER = 7


#: How long a create told to ``hang`` keeps the caller waiting before its 504 (longer than
#: any timeout the shop uses: the caller gives up, or is killed, first).
HANG_SECONDS = 30


def hang() -> tuple:
    """A create that never reaches the gateway's core: a long wait, then 504, nothing opened
    (what a worker killed mid-create sees of it: nothing)."""
    time.sleep(HANG_SECONDS)
    return "Gateway Timeout", 504


def status_fault(gateway: str) -> tuple | None:
    """Play the status-API faults the simulated gateways share: a plain 500 or a 429 with
    ``Retry-After`` to send back, or an answer slower than the shop waits (then None:
    answer normally, too late)."""
    fault = STATE.faults_for(gateway)["status"]
    if fault == "http500":
        return "Internal Server Error", 500
    if fault == "http429":
        return "Too Many Requests", 429, {"Retry-After": str(RETRY_AFTER)}
    if fault == "timeout":
        time.sleep(current_app.config["GATEWAY_TIMEOUT_SECONDS"] + 1)
    return None
