"""Text that people typed, in spreadsheets and CSV files: shown as text, never run as a formula.

A name or reason such as ``=HYPERLINK(...)`` would otherwise become a live formula when an
export is opened (CSV injection). In .xlsx the cell is typed as a string; in CSV a value
that a spreadsheet would read as a formula gets a leading apostrophe.

Text stored before control characters were refused may still hold them: openpyxl raises
``IllegalCharacterError`` for most (and its message quotes the whole value, a name into
the log), so every character a workbook cannot hold becomes U+FFFD first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.text import REPLACEMENT, printable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> Any:
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(_FORMULA_STARTS):
            return "'" + value
    return "" if value is None else value


def xlsx_text(value: str) -> str:
    """``value`` without the characters a workbook cannot hold (each becomes U+FFFD)."""
    return ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, printable(value))


def xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Cell]:
    """Cells for ``sheet.append``: text stays text even when it starts with ``=``."""
    cells = []
    for value in values:
        text = isinstance(value, str)
        cell = WriteOnlyCell(sheet, value=xlsx_text(value) if text else value)
        if text:
            cell.data_type = "s"
        cells.append(cell)
    return cells
