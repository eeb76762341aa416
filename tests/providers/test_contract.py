"""The contract every provider in the registry must keep (run against the simulator)."""
from __future__ import annotations

import ast
import inspect
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from payments.gateways import gateway_settings, get_provider
from providers import REGISTRY
from providers.base import (
    EXPONENTS,
    CheckoutRequest,
    HostedPayment,
    Inbound,
    InvalidCallback,
    Line,
    PaymentRef,
    ProviderError,
    ProviderUnavailable,
    StatusReport,
)
from simulator import SIM_CREDENTIALS
from tests.helpers import DOMAIN

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(REGISTRY)


def sample_request(currency: str, base: str, reference: str = "PAY-CONTRACT0001") -> CheckoutRequest:
    unit = 2500 * 10 ** EXPONENTS[currency]
    return CheckoutRequest(
        reference=reference, order_reference="CMD-CONTRACT01", amount=2 * unit, currency=currency,
        lines=(Line("Pagne wax", 2, unit, 2 * unit),), customer_name="Awa Ouédraogo",
        customer_email="awa@example.bf", customer_phone="+22670123456",
        description="Contract test", return_url=f"{base}/orders/tok/return?ref={reference}",
        cancel_url=f"{base}/orders/tok/cancel?ref={reference}",
        callback_url=f"{base}/payments/callback/x/{reference}", order_url=f"{base}/orders/tok",
        expires_at=datetime.now(timezone.utc) + timedelta(minutes=30), store_url=base,
    )


def currency_for(app, name: str) -> str:
    settings = gateway_settings(app.config, name)
    return next(c for c in sorted(REGISTRY[name].currencies) if REGISTRY[name].accepts(settings, c))


@pytest.mark.parametrize("name", NAMES)
def test_declares_what_the_shop_needs(name):
    cls = REGISTRY[name]
    assert cls.name == name
    assert cls.display_name and cls.currencies and cls.credential_keys
    assert cls.currencies <= set(EXPONENTS)
    assert set(cls.credential_keys) <= set(SIM_CREDENTIALS[name])
    assert cls.simulator_path


@pytest.mark.parametrize("name", NAMES)
def test_provider_module_touches_no_flask_and_no_database(name):
    tree = ast.parse(inspect.getsource(inspect.getmodule(REGISTRY[name])))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy", "extensions", *DOMAIN}


@pytest.mark.parametrize("name", NAMES)
def test_create_then_status_is_pending(app, ctx, base_url, name):
    provider = get_provider(name)
    currency = currency_for(app, name)
    request = sample_request(currency, base_url)
    hosted = provider.create(request)
    assert isinstance(hosted, HostedPayment)
    assert hosted.gateway_ref
    assert hosted.redirect_url.startswith(base_url + "/_sim/")
    report = provider.fetch_status(PaymentRef(request.reference, hosted.gateway_ref, request.amount, currency))
    assert isinstance(report, StatusReport)
    assert report.status == "pending"


@pytest.mark.parametrize("name", NAMES)
def test_status_of_an_unknown_payment_is_an_error(app, ctx, name):
    provider = get_provider(name)
    currency = currency_for(app, name)
    with pytest.raises(ProviderError):
        provider.fetch_status(PaymentRef("PAY-NOPE", "does-not-exist", 1000, currency))


@pytest.mark.parametrize("name", NAMES)
def test_unreachable_gateway_is_unavailable(app, ctx, base_url, name):
    provider = get_provider(name)
    provider.settings = {**provider.settings, "base_url": "http://127.0.0.1:9/" + REGISTRY[name].simulator_path}
    with pytest.raises(ProviderUnavailable):
        provider.create(sample_request(currency_for(app, name), base_url))


@pytest.mark.parametrize("name", NAMES)
def test_garbage_callback_is_invalid(app, ctx, name):
    provider = get_provider(name)
    inbound = Inbound(headers={"Content-Type": "application/json"}, body=b"{not json", form={},
                      query={}, url="http://127.0.0.1/payments/callback/" + name,
                      content_type="application/json")
    with pytest.raises(InvalidCallback):
        provider.parse_callback(inbound)


def test_every_outbound_request_has_a_timeout():
    """G8: no ``requests.<verb>(`` without ``timeout=`` anywhere in the app."""
    offenders = []
    for path in ROOT.glob("**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for match in re.finditer(r"requests\.(get|post|put|delete|request)\(([^)]*)\)", path.read_text()):
            if "timeout" not in match.group(2):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)[:60]}")
    assert not offenders


def test_payunit_mode_is_sent_lower_case_whatever_the_setting(app, ctx):
    """Seed 003's ``mode`` header is "Live or test": PAYUNIT_MODE=Live works, a typo is named."""
    provider = get_provider("payunit")
    provider.settings = {**provider.settings, "mode": " Live "}
    assert provider._headers()["mode"] == "live"
    provider.settings = {**provider.settings, "mode": "prod"}
    with pytest.raises(ProviderError, match="PAYUNIT_MODE"):
        provider._headers()
