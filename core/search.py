"""Search that ignores accents and case, the same on SQLite and PostgreSQL.

Each product keeps ``search_text``: its French and English names and descriptions,
folded (``"Beurre de karité"`` → ``"beurre de karite"``), written by the app on every
save; each order keeps one too (the customer's name and e-mail), for the dashboard. A search folds the query the same way and asks for every word with ``LIKE``;
on PostgreSQL a trigram index (``pg_trgm``, when it could be created) serves that LIKE.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, and_

#: Letters that NFKD does not take apart but that people type without the ligature.
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "ʼ": "'"})
#: At most this many words of a query are used.
MAX_WORDS = 8


def fold(text: str) -> str:
    """Lower case, no accents, ligatures spelt out: ``"KARITÉ Œuvre"`` → ``"karite oeuvre"``."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(product) -> str:
    """What a product is found by: both names and both descriptions, folded."""
    parts = (product.name, product.name_en, product.description, product.description_en)
    return fold(" ".join(p for p in parts if p))


def order_search_text(order) -> str:
    """What the dashboard finds an order by, beside its references: the customer's name and
    e-mail, folded (``"Awa Ouédraogo"`` is found by ``"ouedraogo"``)."""
    return fold(" ".join(p for p in (order.customer_name, order.customer_email) if p))


def words(query: str) -> list[str]:
    """The folded words of a customer's query (no LIKE wildcards: they are escaped later)."""
    return fold(query).split()[:MAX_WORDS]


def matches(column, query: str) -> ColumnElement[bool] | None:
    """A condition true when ``column`` (folded text) holds every word of ``query``;
    None when the query has no word."""
    terms = words(query)
    if not terms:
        return None
    # One literal pattern per word (not '%' || :word || '%'): the trigram index needs to see it.
    return and_(*(column.like(f"%{_escape(term)}%", escape="/") for term in terms))


def _escape(term: str) -> str:
    """LIKE's wildcards and the escape character itself, taken literally."""
    return term.replace("/", "//").replace("%", "/%").replace("_", "/_")
