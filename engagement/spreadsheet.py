"""CSV cells that stay text in a spreadsheet, whoever wrote them."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is read by Excel and LibreOffice as a formula (or a DDE call).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Citizens' words opened in a spreadsheet must stay text: a leading = + - @ would start a formula,
    so such text gets a leading apostrophe (shown by spreadsheets as plain text)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
