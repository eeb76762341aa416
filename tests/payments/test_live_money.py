"""Live money only (issue 31): production never talks test mode, and no test-mode answer pays.

Against the gateways' own documents (seed 003 for PayUnit, seed 004 for Paycashless, the notes
in docs/gateways/), over real HTTP and real processes where the behaviour is the shop's start-up.
"""
from __future__ import annotations

import pytest

from payments.gateways import get_provider
from providers.payunit import key_mode
from tests.test_config import STRONG, run_python

PAYUNIT = {"PAYUNIT_API_USER": "merchant-user", "PAYUNIT_API_PASSWORD": "merchant-password"}


def production_start(**env: str):
    """The check gunicorn's master runs before any worker boots, in a fresh production process."""
    return run_python("from app import check_config; check_config()", {
        "SECRET_KEY": STRONG, "DATABASE_URL": "postgres://u@127.0.0.1:1/x",
        "PUBLIC_BASE_URL": "https://shop.example.com", **env})


def test_production_refuses_to_guess_payunit_mode():
    """A PayUnit key that does not say its mode and no PAYUNIT_MODE: today's main would send
    ``mode: test`` with a live key. Production now refuses to start, in one line naming the variable."""
    result = production_start(**PAYUNIT, PAYUNIT_API_KEY="3f6d0c2e9b1a")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        ("comptoir: configuration error: payunit: set PAYUNIT_MODE to live (or test): PAYUNIT_API_KEY "
        "does not say which, and production never assumes test mode")]


def test_a_mode_that_contradicts_the_key_is_refused():
    result = production_start(**PAYUNIT, PAYUNIT_API_KEY="live_0123456789abcdef", PAYUNIT_MODE="test")
    assert result.returncode != 0
    assert "PAYUNIT_MODE is test but PAYUNIT_API_KEY is a live key" in result.stderr


@pytest.mark.parametrize("env", [
    {"PAYUNIT_API_KEY": "live_0123456789abcdef"},  # seed 003: live_… goes with mode: live
    {"PAYUNIT_API_KEY": "3f6d0c2e9b1a", "PAYUNIT_MODE": "Live"},
    {"PAYUNIT_API_KEY": "sandbox_0123456789", "PAYUNIT_MODE": "test"},
])
def test_production_starts_when_the_mode_is_known(env):
    assert production_start(**PAYUNIT, **env).returncode == 0


@pytest.mark.parametrize("api_key, mode", [("live_abc", "live"), ("LIVE_abc", "live"), ("test_abc", "test"),
                                           ("sandbox_abc", "test"), ("abc", None), ("", None)])
def test_the_key_prefix_names_the_mode(api_key, mode):
    assert key_mode(api_key) == mode


def test_the_mode_header_follows_the_key(app, ctx):
    """No PAYUNIT_MODE: a live key sends ``mode: live`` (seed 003's curl example), never test."""
    provider = get_provider("payunit")
    provider.settings = {**provider.settings, "mode": "", "api_key": "live_0123456789abcdef"}
    assert provider._headers()["mode"] == "live"
