"""Issue 10: no untranslated string. Extracts every msgid (Babel, with babel.cfg) and checks the French .po."""
from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.helpers import DOMAIN
from tests.i18n.conftest import PO, ROOT

#: The keywords of `make messages`: Babel's, plus the lazy ones of form labels.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted() -> dict[tuple[str | None, str], tuple[str, int]]:
    """``(context, msgid) -> (file, line)`` for every translatable string of the code and templates."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((context, msgid), (filename, lineno))
    return found


def french() -> dict:
    with PO.open("rb") as source:
        catalog = read_po(source, locale="fr")
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


def test_the_extraction_finds_the_shop_and_the_e_mails():
    strings = extracted()
    files = {where for where, _line in strings.values()}
    assert any(f.startswith("templates/shop/") for f in files) and any(f.startswith("blueprints/") for f in files)
    assert any(f.startswith("templates/email/") for f in files) and any(f.split("/")[0] in DOMAIN for f in files)
    assert (None, "Add to cart") in strings and (None, "Full name") in strings  # template and lazy form label


def test_every_string_has_a_french_translation():
    catalogue = french()
    problems = []
    for key, (where, line) in sorted(extracted().items(), key=lambda item: item[1]):
        message = catalogue.get(key)
        forms = [] if message is None else (
            [message.string] if isinstance(message.string, str) else list(message.string))
        if message is None:
            problems.append(f"{where}:{line}: not in the .po: {key[1]!r}")
        elif message.fuzzy or not forms or not all(forms):
            problems.append(f"{where}:{line}: fuzzy or empty in the .po: {key[1]!r}")
    assert problems == [], "run `make messages` and translate:\n" + "\n".join(problems)


def test_translations_keep_their_placeholders():
    """A translation that drops or renames ``%(name)s`` would fail at run time, in French only."""
    for message in french().values():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[-1])), (message.id, text)
