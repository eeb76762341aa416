"""The storm (issue 8): many customers on every gateway, callbacks duplicated, dropped and
delayed, then reconciliation. Nothing paid at a gateway is lost; every paid order is verified."""
from __future__ import annotations

from tests.chaos import run_storm


def test_storm_loses_nothing(app, base_url, capsys):
    report = run_storm(app, base_url, customers=24, workers=4)
    with capsys.disabled():
        print("\n" + report.table())
    assert not report.errors, report.errors
    assert report.created == report.customers
    assert report.lost == 0
    assert report.unverified_paid == 0
    assert report.pending == 0  # reconciliation settled every order: paid or expired
    assert report.paid + report.expired == report.created
    assert report.paid >= report.customers // 2
