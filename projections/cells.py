"""Text that people typed, in spreadsheets and CSV files: shown as text, never run as a formula.

A name or reason such as ``=HYPERLINK(...)`` would otherwise become a live formula when an
export is opened (CSV injection). In .xlsx the cell is typed as a string; in CSV a value
that a spreadsheet would read as a formula gets a leading apostrophe.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def xlsx_row(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Cell]:
    """Cells for ``sheet.append``: text stays text even when it starts with ``=``."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells
