"""Cells for spreadsheets: text that a spreadsheet would run as a formula is written with a
leading apostrophe (the orders CSV, the catalogue CSV), and read back without it."""
from __future__ import annotations

#: A cell starting with one of these is a formula (or the start of one) to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str | None) -> str:
    """Typed text cannot start a spreadsheet formula: "=1+1" → "'=1+1"."""
    text = text or ""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def plain_cell(text: str) -> str:
    """What ``safe_cell`` wrote, back as typed: "'=1+1" → "=1+1" (any other text unchanged)."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text
