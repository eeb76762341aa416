"""Language tests: the French catalogue compiled (as `make translations` does) and a French shopper."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.helpers import Shopper

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


def compile_catalogue() -> None:
    """Compile the .po like `pybabel compile` when the .mo is missing or older (pytest run by hand)."""
    mo = PO.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= PO.stat().st_mtime:
        return
    with PO.open("rb") as source:
        catalog = read_po(source, locale="fr")
    with mo.open("wb") as target:
        write_mo(target, catalog)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogue() -> None:
    compile_catalogue()


@pytest.fixture
def french(shopper: Shopper) -> Shopper:
    """A shopper who chose French with the header's switcher."""
    response = shopper.post("/language", {"language": "fr"})
    assert response.status_code == 303
    return shopper


@pytest.fixture(params=["fr", "en"])
def any_language(request, shopper: Shopper) -> tuple[str, Shopper]:
    """The same shopper, once per language, chosen with the switcher."""
    assert shopper.post("/language", {"language": request.param}).status_code == 303
    return request.param, shopper
