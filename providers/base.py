"""The provider contract: value objects, errors and the shared HTTP helper.

A provider translates between these plain objects and one gateway's HTTP API.
It never touches the database, the Flask session or ``url_for``.
"""
from __future__ import annotations

import abc
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

#: One line per gateway call (the request id is added by the app's logging: core.requestlog).
log = logging.getLogger("comptoir.gateway")

#: ISO 4217 exponents of the currencies we sell in.
EXPONENTS = {"XOF": 0, "XAF": 0, "RWF": 0, "NGN": 2, "USD": 2, "EUR": 2, "GBP": 2}

#: Normalised payment outcomes a provider may report.
STATUSES = ("pending", "succeeded", "failed", "cancelled", "expired")

SECRET_KEYS = {
    "apikey", "api_key", "api_token", "authorization", "password", "secret",
    "secretkey", "irembopay-secretkey", "api_password", "x-api-key",
}


class ProviderError(Exception):
    """The gateway answered and said no. The message is safe to log."""


class ProviderUnavailable(ProviderError):
    """The gateway could not be reached, timed out, failed (5xx) or asked us to slow down (429).

    ``retry_after`` is how many seconds the gateway asked us to wait (its ``Retry-After``), if it said.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidCallback(Exception):
    """A callback that cannot be read: wrong shape, missing reference."""


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units to an exact Decimal in major units (never a float)."""
    return Decimal(amount).scaleb(-EXPONENTS[currency])


def whole_units(amount: int, currency: str) -> int:
    """Minor units to whole major units, for gateways that take integers only."""
    major = to_major(amount, currency)
    if major != major.to_integral_value():
        raise ProviderError(f"{amount} {currency} is not a whole amount")
    return int(major)


def redact(data: Any) -> Any:
    """A copy of ``data`` with secret-looking keys masked, for logs and events."""
    if isinstance(data, dict):
        return {
            k: "***" if str(k).lower() in SECRET_KEYS else redact(v) for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    unit_price: int  # minor units
    total: int  # minor units
    #: The merchant's product code at the gateway, where it has one (IremboPay).
    product_code: str | None = None


def billable_lines(request: CheckoutRequest) -> tuple[Line, ...]:
    """The lines as a gateway's items: as they are when every one is positive, each is its unit
    price times its quantity and together they make the amount; else (a promo code's negative
    line, say) one line for the whole order, so the items always add up to what is charged."""
    lines = request.lines
    if lines and sum(l.total for l in lines) == request.amount and all(
            l.unit_price > 0 and l.quantity > 0 and l.unit_price * l.quantity == l.total for l in lines):
        return lines
    return (Line(request.description[:200], 1, request.amount, request.amount),)


@dataclass(frozen=True)
class CheckoutRequest:
    """Everything a gateway needs to open a hosted payment for one attempt."""

    reference: str  # our payment reference, unique per attempt
    order_reference: str
    amount: int  # minor units
    currency: str
    lines: tuple[Line, ...]
    customer_name: str
    customer_email: str
    customer_phone: str
    description: str
    return_url: str
    cancel_url: str
    callback_url: str
    order_url: str
    expires_at: datetime
    store_name: str = "Comptoir"
    store_url: str = ""
    language: str = "fr"  # fr, en or rw


@dataclass(frozen=True)
class HostedPayment:
    """The gateway accepted: its id for the payment and where to send the browser."""

    gateway_ref: str
    redirect_url: str
    raw: dict = field(default_factory=dict)
    #: The body we sent, kept for the payment's event log (never headers).
    sent: dict = field(default_factory=dict)
    #: A second id where the gateway has one (PayUnit's invoice ``ref``).
    gateway_ref2: str = ""


@dataclass(frozen=True)
class Inbound:
    """An HTTP request from a gateway, without Flask."""

    headers: dict[str, str]
    body: bytes
    form: dict[str, str]
    query: dict[str, str]
    #: The URL the gateway called, rebuilt on PUBLIC_BASE_URL (what it signed).
    url: str = ""
    content_type: str = ""
    #: Our payment reference when the callback URL carries it in its path.
    path_reference: str | None = None

    def json(self) -> Any:
        """The body as JSON, or InvalidCallback."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidCallback("body is not JSON") from None


@dataclass(frozen=True)
class CallbackNotice:
    """What a callback says.

    ``verified`` only when a signature proved it. A verified notice with a
    ``claimed_status`` is applied as it is (after the amount check); anything
    else makes the shop ask the gateway's status API.
    """

    reference: str | None  # None: take it from the callback URL's path
    claimed_status: str | None
    verified: bool
    note: str
    payload: Any = None
    amount: int | None = None
    currency: str | None = None
    #: The gateway's id for the payment named in the callback, when it names one:
    #: the shop refuses the callback if it differs from the id stored at creation.
    gateway_ref: str | None = None


@dataclass(frozen=True)
class PaymentRef:
    """The ids we stored for one attempt, to ask the gateway about it."""

    reference: str
    gateway_ref: str | None
    amount: int
    currency: str


@dataclass(frozen=True)
class StatusReport:
    """The gateway's word on a payment, normalised to one of :data:`STATUSES`."""

    status: str
    amount: int | None  # the amount the gateway holds for this payment, minor units
    currency: str | None
    raw: Any = None
    note: str = ""
    #: For gateways that take money in parts: what has arrived so far, minor units.
    amount_received: int | None = None
    #: A status the gateway gave that we cannot read (the raw value): the payment stays
    #: open (``status`` is "pending") and is flagged for the merchant.
    unknown_status: str | None = None
    #: The gateway says this is a test-mode object (Paycashless ``liveMode: false``): where the
    #: shop takes live money only (production), it never pays an order.
    test_mode: bool = False


class GatewayHTTP:
    """All gateway HTTP goes through here: one session, a timeout on every call,
    no redirects followed, and ``requests`` errors turned into ours."""

    def __init__(self, session: requests.Session, timeout: float, name: str):
        self.session = session
        self.timeout = timeout
        self.name = name

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request; raise ProviderUnavailable on network errors and 5xx."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        started = time.perf_counter()
        # the host and path only: a query string may carry a token (LigdiCash's confirm)
        where = urlsplit(url)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.Timeout:
            log.warning("%s %s %s%s: timed out after %.0f ms", self.name, method, where.netloc, where.path,
                        (time.perf_counter() - started) * 1000)
            raise ProviderUnavailable(f"{self.name} timed out") from None
        except requests.RequestException as exc:
            log.warning("%s %s %s%s: %s", self.name, method, where.netloc, where.path, type(exc).__name__)
            raise ProviderUnavailable(f"{self.name} unreachable ({type(exc).__name__})") from None
        log.info("%s %s %s%s: HTTP %s in %.0f ms", self.name, method, where.netloc, where.path,
                 response.status_code, (time.perf_counter() - started) * 1000)
        if response.status_code == 429:  # every gateway: "unavailable, try later", in this one place
            wait = retry_after(response.headers.get("Retry-After"))
            raise ProviderUnavailable(f"{self.name} is rate limiting us (HTTP 429)", retry_after=wait)
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{self.name} answered HTTP {response.status_code}",
                                      retry_after=retry_after(response.headers.get("Retry-After")))
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request and decode its JSON answer."""
        response = self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.name} answered HTTP {response.status_code} with no JSON"
            ) from None


#: The longest Retry-After we honour: a gateway asking for more is asked again after this.
MAX_RETRY_AFTER_SECONDS = 3600


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(min(int(text), MAX_RETRY_AFTER_SECONDS))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    return float(min(max(seconds, 0), MAX_RETRY_AFTER_SECONDS))


class PaymentProvider(abc.ABC):
    """One gateway behind the shop's interface (see DESIGN.md §5)."""

    name: str
    display_name: str
    currencies: frozenset[str]
    #: One line shown under the gateway's name at checkout.
    blurb: str = ""
    #: What the customer can pay with, shown as badges at checkout: brand names, or
    #: "cards", "bank transfer", "crypto" (translated by the templates).
    pays_with: tuple[str, ...] = ()
    #: Settings read from ``<NAME>_<KEY>``; all required once any is set.
    credential_keys: tuple[str, ...] = ()
    #: Optional settings ``<NAME>_<KEY>`` and their defaults.
    option_defaults: dict[str, str] = {}
    #: The gateway's production API base (``<NAME>_BASE_URL`` overrides it).
    default_base_url: str = ""
    #: Where the built-in simulator serves this gateway, under ``/_sim/``.
    simulator_path: str = ""
    #: Whether the gateway sends the browser back to us after payment.
    returns_browser: bool = True
    #: Whether the browser comes back to the callback URL itself (a GET there is a return landing).
    browser_returns_to_callback: bool = False
    #: The least time between two status checks of one payment the gateway tolerates
    #: (payments/pacing.py enforces it on every path that asks).
    min_check_seconds: float = 0
    #: Whether the gateway can be asked by our own reference whether it opened an invoice
    #: (for an attempt whose create answer never reached us): see ``find_by_reference``.
    looks_up_by_reference: bool = False
    #: HTTP calls the create makes one after the other (each within the timeout): an attempt
    #: still unanswered after that many timeouts was left by a request that stopped.
    create_calls: int = 1

    def __init__(self, settings: dict[str, str], http: GatewayHTTP):
        self.settings = settings
        self.http = http

    @classmethod
    def settings_problem(cls, settings: dict[str, str], production: bool) -> str | None:
        """Why these settings (real credentials) must not run, naming the variable; None: fine.
        Checked at start-up (``payments.gateways.check_configuration``): a shop refuses to start
        rather than take money the wrong way."""
        return None

    @classmethod
    def accepts(cls, settings: dict[str, str], currency: str) -> bool:
        """Whether this gateway, so configured, takes payments in ``currency``."""
        return currency in cls.currencies

    @abc.abstractmethod
    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Open a hosted payment; return the gateway's id and the payment URL."""

    @abc.abstractmethod
    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """Read a callback: our reference and what it claims, verified or not."""

    @abc.abstractmethod
    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """Ask the gateway for the payment's status."""

    def find_by_reference(self, payment: PaymentRef) -> HostedPayment | None:
        """The invoice the gateway opened under our reference, or None when it has none.

        Only for gateways that set ``looks_up_by_reference``; ``redirect_url`` is empty when the
        gateway's answer does not say where its page is. ProviderError when it cannot tell now.
        """
        raise NotImplementedError(f"{self.display_name} cannot be asked by our reference")

    def url(self, path: str) -> str:
        """An absolute URL under the configured base URL."""
        return self.settings["base_url"].rstrip("/") + "/" + path.lstrip("/")
