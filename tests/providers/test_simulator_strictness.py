"""The simulator refuses what the gateways' documents forbid (issue 31), so the tests can see it.

Each case sends the shop's own request (the provider's body and headers, over real HTTP to the
simulator), once as it is (accepted) and once with the one thing the document forbids.
"""
from __future__ import annotations

import requests

from payments.gateways import get_provider
from providers.ligdicash import CREATE_PATH as LIGDICASH_CREATE
from providers.payunit import CREATE_PATH as PAYUNIT_CREATE
from simulator.state import STATE
from tests.providers.test_contract import sample_request


def test_ligdicash_requires_the_accept_header(app, ctx, base_url):
    """Seed 000: ``Accept: application/json`` is a required header, like the key and the token."""
    provider = get_provider("ligdicash")
    body, url = provider.create_body(sample_request("XOF", base_url)), provider.url(LIGDICASH_CREATE)
    headers = provider._headers()
    assert headers["Accept"] == "application/json"  # what the shop sends
    without = {k: v for k, v in headers.items() if k != "Accept"}
    refused = requests.post(url, json=body, headers=without, timeout=10).json()
    assert refused["response_code"] == "01" and not STATE.invoices
    accepted = requests.post(url, json=body, headers=headers, timeout=10).json()
    assert accepted["response_code"] == "00"


def test_payunit_is_custom_company_must_be_a_boolean(app, ctx, base_url):
    """Seed 003 line 77: ``is_custom_company`` is optional, a "Boolean indicating…"."""
    provider = get_provider("payunit")
    body, url = provider.create_body(sample_request("XAF", base_url)), provider.url(PAYUNIT_CREATE)
    refused = requests.post(url, json={**body, "is_custom_company": "true"}, headers=provider._headers(),
                            timeout=10)
    assert refused.status_code == 400 and "is_custom_company" in refused.json()["message"]
    accepted = requests.post(url, json={**body, "is_custom_company": False}, headers=provider._headers(),
                             timeout=10)
    assert accepted.status_code == 200, accepted.text


def test_irembopay_phone_number_is_an_integer_or_the_examples_form(app, ctx, base_url):
    """Seed 001 line 64: ``customer.phoneNumber`` is an Integer; the official examples send
    ``"07XXXXXXXX"`` (what the shop sends). Any other shape, as today's main took, is refused."""
    provider = get_provider("irembopay")
    body = provider.create_body(sample_request("RWF", base_url))
    url = provider.url("payments/invoices")

    def create(phone) -> requests.Response:
        return requests.post(url, json={**body, "transactionId": f"TX-{STATE.new_token()[:12]}",
                                        "customer": {**body["customer"], "phoneNumber": phone}},
                             headers=provider._headers(), timeout=10)

    for refused in ("+250788123456", "250788123456", "788123456", 788123456.0, True):
        answer = create(refused)
        assert answer.status_code == 400, refused
        assert answer.json()["errors"][0]["code"] == "BAD_CUSTOMER_CONTACT"
    for accepted in (788123456, "0788123456"):
        assert create(accepted).status_code == 201, accepted
