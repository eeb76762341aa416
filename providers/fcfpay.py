"""FCFPay (crypto, priced in USD or EUR): hosted checkout through ``create-order``.

We use ``create-order`` rather than the seed's ``create-invoice`` (seed 002):
only create-order takes the ``order_id`` that the deposit callback and
``check-order`` are keyed by (``docs/gateways/fcfpay.md``). The callback is
unsigned and carries only ``order_id``, so it is a hint: the outcome comes from
``check-order``. Crypto arrives in parts, converted at a market rate: the order
is paid once the deposited fiat value reaches its total less a tolerance, a
percentage or an absolute amount (FCFPay's WooCommerce plugin does the same);
what is missing is reported so that the shop records and shows the shortfall.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

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
    billable_lines,
    to_major,
)

LIVE_BASE_URL = "https://merchant.fcfpay.com/api/v2/"
SANDBOX_BASE_URL = "https://sandbox.fcfpay.com/api/v2/"
CREATE_PATH = "create-order"
CHECK_PATH = "check-order"
CHECK_MANY_PATH = "check-orders"
#: FCFPay's own hosted checkout pages (live and sandbox): the only places we redirect to.
CHECKOUT_HOSTS = frozenset({"checkout.fcfpay.com", "checkout-sandbox.fcfpay.com"})
#: Item keys: create-order's docs show "Item Name"/"Price"/"Total" where the seed's
#: create-invoice shows "name"/"price"; the items are only displayed, so we follow create-order.
ITEM_KEYS = ("Item Name", "Quantity", "Price", "Total")
#: A transaction counts once FCFPay says it is deposited (unconfirmed ones are "waiting", v1 docs).
DEPOSITED = "deposited"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class FCFPay(PaymentProvider):
    name = "fcfpay"
    looks_up_by_reference = True  # check-orders by our order_id
    display_name = "FCFPay"
    blurb = "Bitcoin, Ethereum, USDT and other crypto-currencies"
    pays_with = ("crypto",)
    currencies = frozenset({"USD", "EUR"})
    credential_keys = ("api_key",)
    #: Tolerances (docs/gateways/fcfpay.md): a conversion rarely lands on the cent; 0.5 %
    #: covers the rate moving between quote and deposit, and no absolute floor by default.
    option_defaults = {"sandbox": "", "tolerance_percent": "0.5", "tolerance_minor": "0"}
    default_base_url = LIVE_BASE_URL
    simulator_path = "fcfpay/api/v2/"

    def url(self, path: str) -> str:
        """Under the sandbox host when ``FCFPAY_SANDBOX`` is on, unless a base URL was set."""
        base = self.settings["base_url"]
        if base == LIVE_BASE_URL and self.settings.get("sandbox", "").lower() in TRUE_WORDS:
            base = SANDBOX_BASE_URL
        return base.rstrip("/") + "/" + path.lstrip("/")

    def _headers(self) -> dict[str, str]:
        # The docs' JS/PHP samples quote the key ("Bearer \"KEY\""); the curl form has none.
        return {
            "Authorization": f"Bearer {self.settings['api_key']}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def create_body(self, request: CheckoutRequest) -> dict:
        """The create-order body for one attempt: our reference is the ``order_id``."""
        return {
            "domain": urlsplit(request.store_url).hostname or request.store_url,
            "order_id": request.reference,
            "amount": decimal_string(request.amount, request.currency),
            "currency_name": request.currency,
            "order_date": datetime.now(timezone.utc).date().isoformat(),
            "redirect_url": request.return_url,
            "items": {
                str(number): dict(zip(ITEM_KEYS, (
                    line.name, str(line.quantity),
                    decimal_string(line.unit_price, request.currency),
                    decimal_string(line.total, request.currency),
                ), strict=True))
                for number, line in enumerate(billable_lines(request), start=1)
            },
        }

    def create(self, request: CheckoutRequest) -> HostedPayment:
        """Create the order; FCFPay returns only a checkout URL, so our reference is the id."""
        if request.currency not in self.currencies:
            raise ProviderError(f"FCFPay takes USD or EUR only, not {request.currency}")
        body = self.create_body(request)
        answer = self._call(CREATE_PATH, body, "refused the order")
        data = answer.get("data")
        if not isinstance(data, dict):
            data = {}
        link = str(data.get("checkout_page_url") or "")
        if not self._is_checkout_page(link):
            raise ProviderError("FCFPay answered without a usable checkout page URL")
        return HostedPayment(gateway_ref=request.reference, redirect_url=link, raw=answer, sent=body)

    def _call(self, path: str, body: dict, failure: str) -> dict:
        """POST ``body``; FCFPay's envelope with ``success: true`` or ProviderError with its message."""
        answer = self.http.json("POST", self.url(path), json=body, headers=self._headers())
        if not isinstance(answer, dict):
            raise ProviderError(f"FCFPay {failure}: unreadable answer")
        if answer.get("success") is not True:
            message = str(answer.get("message") or answer.get("errorMessage") or "no reason given")
            raise ProviderError(f"FCFPay {failure}: {message[:200]}")
        return answer

    def _is_checkout_page(self, link: str) -> bool:
        """FCFPay's checkout host, or the configured API host (simulator, proxies)."""
        page, base = urlsplit(link), urlsplit(self.url(""))
        if page.netloc == base.netloc:
            return page.scheme in ("https", base.scheme)
        return page.scheme == "https" and page.netloc in CHECKOUT_HOSTS

    def parse_callback(self, inbound: Inbound) -> CallbackNotice:
        """The deposit callback: only ``data.order_id`` is read; nothing in it is believed."""
        payload = inbound.json()
        data = payload.get("data") if isinstance(payload, dict) else None
        order_id = data.get("order_id") if isinstance(data, dict) else None
        if not isinstance(order_id, str) or not order_id.strip():
            raise InvalidCallback("no data.order_id")
        return CallbackNotice(
            reference=order_id.strip()[:40],
            claimed_status=None,
            verified=False,
            note="FCFPay callbacks are unsigned and carry only order_id: confirmed with check-order",
            payload=payload,
        )

    def find_by_reference(self, payment: PaymentRef) -> HostedPayment | None:
        """``check-orders`` leaves out the ids it does not know: absent means never opened.
        It gives no checkout page URL, so a found order cannot be resumed (``redirect_url`` "")."""
        answer = self._call(CHECK_MANY_PATH, {"order_ids": [payment.reference]}, "check-orders failed")
        data = answer.get("data")
        found = data.get(payment.reference) if isinstance(data, dict) else None
        if not isinstance(found, dict):
            return None
        return HostedPayment(gateway_ref=payment.reference, redirect_url="", raw=found)

    def fetch_status(self, payment: PaymentRef) -> StatusReport:
        """Ask ``check-order`` and decide from the deposited fiat total."""
        order_id = payment.gateway_ref or payment.reference
        answer = self._call(CHECK_PATH, {"order_id": order_id}, "check-order failed")
        data = answer.get("data")
        if not isinstance(data, dict) or str(data.get("order_id", order_id)) != order_id:
            raise ProviderError("FCFPay check-order answered for another order")
        return self.report(data, payment)

    def report(self, data: dict, payment: PaymentRef) -> StatusReport:
        """One ``check-order`` order object → our status, amount and amount received."""
        currency = str(data.get("fiat_currency") or payment.currency).upper()
        if currency not in EXPONENTS:
            raise ProviderError(f"FCFPay reports an unknown fiat currency {currency[:8]!r}")
        received, uncounted = deposited_total(data.get("txs"), currency)
        received = received_fiat(received, data.get("total_fiat_amount"), currency)
        amount = self._order_amount(data, currency, payment)
        paid = received >= max(amount - self.tolerance(amount), 1)
        notes = [f"deposited {received} of {amount} {currency} (minor units)"]
        if paid and received < amount:
            notes.append(f"short by {amount - received}, within the tolerance")
        if uncounted:
            notes.append(f"{uncounted} transaction(s) not counted (unconfirmed or in another currency)")
        return StatusReport(
            status="succeeded" if paid else "pending",
            amount=amount,
            currency=currency,
            raw=data,
            note="; ".join(notes),
            amount_received=received,
        )

    @staticmethod
    def _order_amount(data: dict, currency: str, payment: PaymentRef) -> int:
        # The docs' examples show order_amount 0: trust it only when FCFPay fills it in.
        reported = minor_units(data.get("order_amount"), currency)
        return reported if reported else payment.amount

    def tolerance(self, amount: int) -> int:
        """The shortfall still counted as paid on ``amount`` (minor units): the larger of
        FCFPAY_TOLERANCE_PERCENT of it (rounded down) and FCFPAY_TOLERANCE_MINOR."""
        raw = (self.settings.get("tolerance_minor", "0") or "0").strip()
        if not raw.isdigit():
            raise ProviderError("FCFPAY_TOLERANCE_MINOR must be a whole number of minor units")
        try:
            percent = Decimal((self.settings.get("tolerance_percent", "0") or "0").strip())
        except InvalidOperation:
            percent = Decimal(-1)
        if not percent.is_finite() or not 0 <= percent <= 100:
            raise ProviderError("FCFPAY_TOLERANCE_PERCENT must be a number from 0 to 100")
        share = int((Decimal(amount) * percent / 100).to_integral_value(rounding=ROUND_DOWN))
        return max(share, int(raw))


def decimal_string(amount: int, currency: str) -> str:
    """Minor units → FCFPay's decimal string in major units (``2500`` USD → ``"25.00"``)."""
    return str(to_major(amount, currency))


def minor_units(value: Any, currency: str) -> int:
    """A fiat decimal string (or number) → minor units, rounded down; 0 when unreadable."""
    if isinstance(value, bool) or value is None:
        return 0
    try:
        major = Decimal(str(value).strip())
    except InvalidOperation:
        return 0
    if not major.is_finite() or major < 0:
        return 0
    return int(major.scaleb(EXPONENTS[currency]).to_integral_value(rounding=ROUND_DOWN))


def deposited_total(txs: Any, currency: str) -> tuple[int, int]:
    """The fiat value of deposited transactions in ``currency`` (minor units), and how
    many were not counted. We sum ``txs`` rather than trust ``total_fiat_amount``,
    whose treatment of unconfirmed transactions is not documented."""
    received = uncounted = 0
    for tx in txs if isinstance(txs, list) else []:
        if not isinstance(tx, dict):
            continue
        confirmed = tx.get("deposited") is True and tx.get("status", DEPOSITED) == DEPOSITED
        if confirmed and str(tx.get("fiat_currency") or currency).upper() == currency:
            received += minor_units(tx.get("fiat_amount"), currency)
        else:
            uncounted += 1
    return received, uncounted


def received_fiat(deposited: int, total_fiat_amount: Any, currency: str) -> int:
    """What we count as received: the sum of deposited ``txs``, or FCFPay's own
    ``total_fiat_amount`` when that is lower. The docs' example gives a total
    (54.75) below the sum of its txs (55.04), and the plugins read the total: we
    never count more than either says."""
    total = minor_units(total_fiat_amount, currency)
    return min(deposited, total) if total else deposited
