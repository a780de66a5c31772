"""Cells that are safe to open in a spreadsheet: no text a spreadsheet would run as a formula."""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """Numbers as they are; text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    """A plain decimal number written as text ("-2.0", "+3"), which a spreadsheet reads as that number."""
    return re.fullmatch(r"[+-]?\d+(\.\d+)?", text) is not None


def safe_row(row: dict) -> dict:
    return {key: safe_cell(value) for key, value in row.items()}
