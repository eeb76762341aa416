"""The house's rooms (docs/architecture.md): every package is declared where the checks that keep
the rooms apart can see it — import-linter's contracts, mypy's files, Babel's extraction — and says
in its docstring what it owns and what it may import."""
from __future__ import annotations

import ast
import configparser
import re
import tomllib

import pytest

from tests.helpers import DOMAIN, IMPORT_CONTRACTS, ROOT

#: Folders that hold no code of the shop.
NOT_PACKAGES = {"tests", "bench", "migrations", "static", "templates", "translations", "docs", "bin",
                "instance", "staticfiles"}
PACKAGES = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_PACKAGES)


def layers() -> list[set[str]]:
    """The layers contract's layers, top first, each a set of sibling packages."""
    contract = next(c for c in IMPORT_CONTRACTS["contracts"] if c["type"] == "layers")
    return [set(re.split(r"\s*[|:]\s*", layer.strip())) for layer in contract["layers"]]


def test_every_package_is_in_the_import_contracts_and_in_one_layer():
    assert sorted(IMPORT_CONTRACTS["root_packages"]) == PACKAGES
    placed = [name for layer in layers() for name in layer]
    assert sorted(placed) == PACKAGES  # each exactly once


def test_mypy_checks_every_package():
    files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    assert set(PACKAGES) <= set(files)


def test_babel_extracts_the_strings_of_every_room_and_of_the_outside():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "babel.cfg")
    globs = {section.split(":", 1)[1].strip() for section in parser.sections() if section.startswith("python:")}
    assert {f"{name}/**.py" for name in (*DOMAIN, "blueprints", "commands")} <= globs


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_says_what_it_owns_and_what_it_may_import(name):
    doc = ast.get_docstring(ast.parse((ROOT / name / "__init__.py").read_text()))
    assert doc and len(doc) > 100, f"{name}/__init__.py: say what the package owns"
    assert "import" in doc, f"{name}/__init__.py: say what the package may import"
