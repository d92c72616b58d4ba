"""CSV cells that a spreadsheet would run as a formula are written as text instead."""

from __future__ import annotations

from decimal import Decimal

# A leading =, +, - or @ starts a formula; a tab or carriage return can hide one (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The cell as text, with a leading apostrophe when it would otherwise be read as a formula.

    Numbers stay numbers (a negative amount is data, not a formula); everything else, including
    related rows rendered by their `str()`, is checked as text.
    """
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
