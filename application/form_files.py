"""Reading the cells of every uploaded file under caps, checked while reading, never after.

Every upload (a 附件2 form, a score sheet, a training-account sheet) is read here. A
hostile workbook can be small and still expand without bound: a ``<dimension>`` of
``A1:XFD1048576`` makes a reader pad every row to 16,384 cells and add a million rows, a
zip member can inflate a thousandfold, one shared string can be hundreds of megabytes. So
before openpyxl opens a workbook, the zip's directory is checked (member count, declared
sizes, compression methods zipfile bounds by the declared size) and no part may declare a
DTD, whose entities can expand a few bytes into gigabytes or name files of the server;
the sheets are then read in openpyxl's read-only mode with their declared dimension
ignored, at most ``MAX_COLUMNS`` columns and ``MAX_ROWS`` rows in all (plus
``HEADER_ROWS`` above each sheet's header), each cell's length checked as it comes. CSV
is read line by line with a cap on a line's length, which also bounds the cells of a row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from application.errors import ApplicationError

MAX_ROWS = 20_000
#: Rows before the header (title, 推荐单位 / 联系人 / 参赛组别) that are searched for it.
HEADER_ROWS = 30
#: The form has ten columns; anything far to the right is not part of it and is not read.
MAX_COLUMNS = 64
#: Excel's own limit for one cell.
MAX_CELL_CHARS = 32_767
#: A CSV line (Python's csv module refuses a field over 131,072 characters by default).
MAX_LINE_CHARS = 131_072
#: What the members of a workbook may declare in all, unpacked.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 1_000
#: XML elements a workbook's XML parts may hold in all: openpyxl parses every one (a few µs
#: each), also the cells right of ``MAX_COLUMNS``. A plain form of 20,000 rows has about
#: 580,000; Excel's phonetic runs and pasted rich text add a few to each string.
MAX_ELEMENTS = 2_000_000
#: The parts whose elements are counted: binary parts (images, printer settings) hold stray
#: ``<`` bytes that are no elements.
_XML_PARTS = (".xml", ".rels", ".vml")
#: How a part declaring a DTD begins, in the encodings an XML parser detects by itself.
_DTD_MARKS = tuple("<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
_SCAN_CHUNK = 1024 * 1024
#: A formula element in a worksheet part, with or without a namespace prefix.
_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ENCRYPTED = 0x1  # general purpose flag bit 0 of a zip member
#: Compression methods for which zipfile never inflates a member beyond its declared size.
_BOUNDED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
#: What a damaged workbook raises in zipfile, zlib, the XML parser (SyntaxError) and openpyxl.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    OSError,
    ValueError,
    TypeError,
    SyntaxError,
)


class FormUnreadable(ApplicationError):
    """The file is not a recommendation form: nothing of it is imported."""

    rule = "form_unreadable"


class FormTooLarge(FormUnreadable):
    """The file exceeds a cap of the reader (413): nothing of it is imported."""

    rule = "form_too_large"


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula and no value computed for it (a file no spreadsheet saved).

    Read as an empty cell (``cell_text``); a reader that needs the cell says where it is.
    """

    row: int
    column: int

    @property
    def problem(self) -> str:
        return (
            f"the cell in row {self.row}, column {self.column} holds a formula and no value; "
            "type the value itself"
        )


def xlsx_sheets(content: bytes) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet's name and rows (at most ``MAX_COLUMNS`` cells each), or a refusal naming why.

    The archive is checked before openpyxl opens it, and rows are read as they stream, so
    no declared size is trusted: a workbook past the row cap is refused while it is read.
    A formula is read as the value the spreadsheet computed for it; where there is none, as
    a ``Formula`` (the formulas read in a second pass, only when the sheets hold any).
    """
    _check_archive(content)
    found = _xlsx_cells(content, data_only=True)
    if not _holds_formulas(content):
        return found
    written = _xlsx_cells(content, data_only=False)
    return [
        (name, _marked(cells, as_written))
        for (name, cells), (_, as_written) in zip(found, written, strict=True)
    ]


def _holds_formulas(content: bytes) -> bool:
    """Whether a worksheet part holds a formula element (``<f>``, ``<f t="shared" .../>``)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for member in archive.infolist():
            if not member.filename.lower().startswith("xl/worksheets/"):
                continue
            tail = b""
            with archive.open(member) as part:
                while chunk := part.read(_SCAN_CHUNK):
                    if _FORMULA_ELEMENT.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def _marked(cells: list[list[Any]], written: list[list[Any]]) -> list[list[Any]]:
    """The computed cells, with a ``Formula`` where a formula has no computed value."""
    out: list[list[Any]] = []
    empty: list[Any] = []
    for number, (computed, formulas) in enumerate(zip_longest(cells, written, fillvalue=empty), start=1):
        row = list(computed)
        for column, value in enumerate(formulas, start=1):
            if not _is_formula(value):
                continue
            row.extend([None] * (column - len(row)))
            if row[column - 1] in (None, ""):
                row[column - 1] = Formula(number, column)
        out.append(row)
    return out


def _is_formula(value: Any) -> bool:
    return isinstance(value, ArrayFormula | DataTableFormula) or (
        isinstance(value, str) and value.startswith("=")
    )


def _xlsx_cells(content: bytes, *, data_only: bool) -> list[tuple[str, list[list[Any]]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=data_only)
    except _DAMAGED as error:
        raise FormUnreadable(f"the file is not an .xlsx workbook ({type(error).__name__})") from None
    try:
        if not workbook.worksheets:
            raise FormUnreadable("the workbook has no sheet")
        found: list[tuple[str, list[list[Any]]]] = []
        # one budget for the whole workbook: a thousand sheets of 20,000 rows is not one form
        budget = MAX_ROWS + HEADER_ROWS * len(workbook.worksheets)
        for sheet in workbook.worksheets:
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # the declared <dimension> is not trusted: rows are not padded
            limit = min(HEADER_ROWS + MAX_ROWS, budget)
            rows = sheet.iter_rows(max_row=limit + 1, max_col=MAX_COLUMNS, values_only=True)
            cells = _bounded(rows, limit)
            budget -= len(cells)
            found.append((str(sheet.title), cells))
        return found
    except _DAMAGED as error:
        # a truncated or damaged sheet fails while it is read, not when it is opened
        raise FormUnreadable(f"the workbook's sheet cannot be read ({type(error).__name__})") from None
    finally:
        workbook.close()


def _check_archive(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            _check_members(members)
            elements = 0
            for member in members:
                elements = _check_part(archive, member, elements)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
        raise FormUnreadable(f"the file is not an .xlsx workbook ({type(error).__name__})") from None


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise FormTooLarge(f"the workbook holds {len(members)} parts; a workbook has at most {MAX_MEMBERS}")
    odd = next((m for m in members if m.compress_type not in _BOUNDED_METHODS), None)
    if odd is not None:
        raise FormUnreadable(
            f"the workbook uses a compression method Excel does not write ({odd.compress_type})"
        )
    locked = next((m for m in members if m.flag_bits & _ENCRYPTED), None)
    if locked is not None:
        raise FormUnreadable(
            f"the workbook's part {locked.filename!r} is encrypted; save it without a password"
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FormTooLarge(
            f"the workbook unpacks to {unpacked} bytes; a workbook may unpack to at most {MAX_UNPACKED_BYTES}"
        )


def _check_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, elements: int) -> int:
    """The part unpacks to what it declares, declares no DTD (Excel never writes one) and
    keeps the workbook's elements, ``elements`` before it, within ``MAX_ELEMENTS``: all
    refused before an XML parser sees the part. Returns the elements counted so far.

    The part is unpacked a chunk at a time (never past its declared size), so this costs
    at most ``MAX_UNPACKED_BYTES`` of inflating and one chunk of memory.
    """
    overlap = max(len(mark) for mark in _DTD_MARKS) - 1
    tail = b""
    xml = member.filename.lower().endswith(_XML_PARTS)
    try:
        with archive.open(member) as part:
            while chunk := part.read(_SCAN_CHUNK):
                window = tail + chunk
                if any(mark in window for mark in _DTD_MARKS):
                    raise FormUnreadable(
                        f"the workbook's part {member.filename!r} declares a DTD (<!DOCTYPE>), "
                        "which Excel never writes; the file is not read"
                    )
                tail = window[-overlap:]
                if not xml:
                    continue
                # an element's start tag; a "</" split between chunks miscounts one, no matter
                elements += chunk.count(b"<") - sum(chunk.count(end) for end in (b"</", b"<!", b"<?"))
                if elements > MAX_ELEMENTS:
                    raise FormTooLarge(
                        f"the workbook holds more than {MAX_ELEMENTS} XML elements; "
                        f"a workbook may hold at most {MAX_ELEMENTS}"
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        # zipfile stops at the declared size; a part that goes on (or breaks off) fails its CRC
        raise FormUnreadable(
            f"the workbook's part {member.filename!r} does not unpack to the {member.file_size} bytes "
            f"it declares ({type(error).__name__})"
        ) from None
    return elements


def csv_cells(content: bytes) -> list[list[Any]]:
    """The rows of a .csv file in UTF-8 or GBK (Excel on Chinese Windows saves CSV as GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FormUnreadable("the .csv file is neither UTF-8 nor GBK text")
    return csv_rows(text)


def csv_rows(text: str) -> list[list[Any]]:
    """The rows of CSV text, each line and cell checked as it is read."""
    try:
        return _bounded(csv.reader(_lines(text)), HEADER_ROWS + MAX_ROWS)
    except csv.Error as error:
        raise FormUnreadable(f"the .csv file cannot be read: {error}") from None


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (ends kept), a line's length checked before it is copied out."""
    start, number = 0, 1
    while start < len(text):
        end = text.find("\n", start, start + MAX_LINE_CHARS + 1)
        if end < 0:
            end = len(text) - 1 if len(text) - start <= MAX_LINE_CHARS else -1
        if end < 0:
            raise FormTooLarge(f"line {number} of the .csv file is longer than {MAX_LINE_CHARS} characters")
        yield text[start : end + 1]
        start, number = end + 1, number + 1


def _bounded(rows: Iterable[Iterable[Any]], limit: int) -> list[list[Any]]:
    found: list[list[Any]] = []
    for number, row in enumerate(rows, start=1):
        if number > limit:
            raise FormTooLarge(
                f"the file has more than {MAX_ROWS} rows (besides {HEADER_ROWS} above each sheet's header); "
                f"one file holds at most {MAX_ROWS}"
            )
        cells = list(row)[:MAX_COLUMNS]
        for column, cell in enumerate(cells, start=1):
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                raise FormTooLarge(
                    f"the cell in row {number}, column {column} holds {len(cell)} characters; "
                    f"a cell holds at most {MAX_CELL_CHARS}"
                )
        while cells and cells[-1] in (None, ""):
            cells.pop()
        found.append(cells)
    return found


def cell_text(value: Any) -> str:
    """A cell as the text its reader saw: whole numbers without ``.0``, full-width folded (NFKC)."""
    if value is None or isinstance(value, Formula):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()
