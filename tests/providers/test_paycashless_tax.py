"""Paycashless ``taxRateIds`` (seed 004: "The tax rates to apply to the invoice"): the
simulator applies the account's known rates to the invoice's amounts and refuses unknown
ids in Paycashless's error shape; it never drops them (issue 20). Real HTTP, signed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from simulator.state import STATE
from tests.providers.test_paycashless import api_headers, post_invoice, sim_url, sorted_compact, valid_body

SEED = Path(__file__).resolve().parents[1] / "data" / "paycashless_seed_004.txt"  # tests/data/README.md


def create(base_url: str, **changes) -> requests.Response:
    data = sorted_compact(valid_body(base_url, **changes))
    return post_invoice(base_url, data, api_headers("/v1/invoices", data))


def test_the_seeds_example_tax_rate_is_refused_not_dropped(base_url):
    """Seed 004's example sends ``["txr_1"]``, an id the (simulated) account does not have."""
    seed_ids = json.loads(re.search(r'"taxRateIds": (\[[^\]]*\])', SEED.read_text()).group(1))
    assert seed_ids == ["txr_1"]
    response = create(base_url, taxRateIds=seed_ids)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error == {"type": "invalid_request_error", "code": "tax_rate_not_found",
                     "message": "Tax rate txr_1 not found"}
    assert not STATE.invoices


def test_an_exclusive_rate_is_added_to_the_amount_due(base_url):
    response = create(base_url, taxRateIds=["txr_vat"])  # 7.5 % on 5,000.00 NGN
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["subTotal"] == 500000 and invoice["totalExclusiveTaxAmount"] == 37500
    assert invoice["amountDue"] == 537500 and invoice["amountRemaining"] == 537500
    assert invoice["taxRateIds"] == ["txr_vat"] and invoice["taxRates"][0]["percentage"] == 7.5
    path = f"/v1/invoices/{invoice['id']}"
    again = requests.get(sim_url(base_url, path), headers=api_headers(path, None), timeout=10).json()
    assert again["amountDue"] == 537500  # the status API agrees


def test_an_inclusive_rate_is_reported_not_added(base_url):
    invoice = create(base_url, taxRateIds=["txr_vat_inclusive"]).json()
    assert invoice["amountDue"] == 500000 and invoice["totalInclusiveTaxAmount"] == 34884  # 7.5/107.5
    assert invoice["totalExclusiveTaxAmount"] == 0


def test_no_tax_rates_change_nothing(base_url):
    invoice = create(base_url).json()
    assert invoice["amountDue"] == invoice["subTotal"] == 500000 and invoice["taxRateIds"] == []


@pytest.mark.parametrize("value", ["txr_vat", [1], {"id": "txr_vat"}])
def test_tax_rate_ids_of_the_wrong_type_are_refused(base_url, value):
    response = create(base_url, taxRateIds=value)
    assert response.status_code == 422 and "taxRateIds" in response.json()["error"]["message"]
