"""Reading a simple uploaded table (.xlsx, every sheet, or .csv): a header row, then a row per item.

Bulk uploads (training accounts, score sheets) name their columns in Chinese or English;
the header is found among the first rows of each sheet by the words it contains. The file
is read by ``application/form_files.py``, under the caps every upload is read with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from application.form_files import MAX_ROWS, FormTooLarge, FormUnreadable, cell_text, csv_cells, xlsx_sheets

HEADER_SEARCH = 10


@dataclass(frozen=True)
class TableRow:
    sheet: str | None  # None for a CSV or a one-sheet workbook
    line: int  # the row's number in its sheet
    cells: dict[str, Any]  # column key -> the cell's value (None when blank)


def read_table(
    content: bytes, filename: str, columns: Mapping[str, Sequence[str]], required: Sequence[str]
) -> list[TableRow]:
    """Rows of every sheet that has a header naming the ``required`` columns; FormUnreadable if none has."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xlsx":
        sheets = xlsx_sheets(content)
    elif suffix == "csv":
        sheets = [("", csv_cells(content))]
    else:
        raise FormUnreadable(f"{filename}: only .xlsx and .csv files are read")
    found: list[TableRow] = []
    headed = 0
    for name, cells in sheets:
        heads = (
            i for i, row in enumerate(cells[:HEADER_SEARCH]) if _header(row, columns).keys() >= set(required)
        )
        header_at = next(heads, None)
        if header_at is None:
            continue
        headed += 1
        where = _header(cells[header_at], columns)
        for offset, raw in enumerate(cells[header_at + 1 :], start=header_at + 2):
            values = {key: raw[index] if index < len(raw) else None for key, index in where.items()}
            if any(cell_text(v) for v in values.values()):
                found.append(TableRow(name if len(sheets) > 1 else None, offset, values))
        if len(found) > MAX_ROWS:
            raise FormTooLarge(f"{filename}: more than {MAX_ROWS} rows; one file holds at most {MAX_ROWS}")
    if not headed:
        words = "、".join(columns[key][0] for key in required)
        raise FormUnreadable(f"{filename}: no sheet has a header row with the columns {words}")
    return found


def _header(row: Sequence[Any], columns: Mapping[str, Sequence[str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        text = cell_text(cell).lower()
        for key, words in columns.items():
            if key not in found and text and any(word.lower() in text for word in words):
                found[key] = index
                break
    return found
