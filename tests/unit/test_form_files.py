"""The one reader of every upload: DTDs and lying parts refused before parsing, rows capped per file."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from application.bulk import SCORE_COLUMNS
from application.form_files import (
    HEADER_ROWS,
    MAX_ROWS,
    FormTooLarge,
    FormUnreadable,
    csv_cells,
    xlsx_sheets,
)
from application.tables import read_table
from bench.bombs import _form_xlsx, _replace_members
from domain.contestant import CONTEST_EVENTS
from tests.form_files import as_xlsx

SHEET = "xl/worksheets/sheet1.xml"


def _with_sheet_prolog(prolog: bytes, encoding: str = "utf-8") -> bytes:
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read(SHEET).decode()
    body = sheet.split("?>", 1)[1] if sheet.startswith("<?xml") else sheet
    text = f'<?xml version="1.0" encoding="{encoding.upper()}"?>' + prolog.decode() + body
    return _replace_members(content, {SHEET: text.encode(encoding)})


@pytest.mark.parametrize(
    ("padding", "encoding"),
    [
        (0, "utf-8"),
        (1024 * 1024 - 42, "utf-8"),  # the DOCTYPE straddles two of the chunks the scan reads
        (0, "utf-16"),  # a parser would read it: expat detects UTF-16 by its byte order mark
    ],
)
def test_a_dtd_anywhere_in_a_part_is_refused_before_parsing(padding: int, encoding: str) -> None:
    content = _with_sheet_prolog(b" " * padding + b'<!DOCTYPE worksheet [<!ENTITY a "b">]>', encoding)
    with pytest.raises(FormUnreadable, match="declares a DTD"):
        xlsx_sheets(content)


def test_a_workbook_without_a_dtd_is_read_as_before() -> None:
    sheets = xlsx_sheets(_with_sheet_prolog(b"<!-- DOCTYPE is only a word here -->"))
    assert sheets[0][1][1][2] == "张三"


def test_the_row_cap_holds_for_the_whole_workbook_while_it_is_read() -> None:
    rows_each = MAX_ROWS // 2 + HEADER_ROWS
    workbook = [("a", rows_each), ("b", rows_each), ("c", rows_each)]
    book = Workbook()
    for number, (title, rows) in enumerate(workbook):
        sheet = book.active if number == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title
        sheet.cell(row=rows, column=1, value="x")  # every row above it is read, blank
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(FormTooLarge, match=f"one file holds at most {MAX_ROWS}"):
        xlsx_sheets(out.getvalue())


def test_a_score_sheet_of_several_sheets_is_still_read_per_sheet() -> None:
    header = ["选手编号", "姓名", "短视频制作", "个人直播账号运营", "直播带货"]
    book = as_xlsx([header, ["c-1", "张三", 90, 80, 70]])
    rows = read_table(book, "scores.xlsx", SCORE_COLUMNS, CONTEST_EVENTS)
    assert [(row.line, row.cells["short_video"]) for row in rows] == [(2, 90)]


def test_a_csv_upload_is_read_in_utf8_or_gbk_under_the_line_cap() -> None:
    assert csv_cells("姓名,培训账号\n张三,t-1\n".encode("gb18030")) == [["姓名", "培训账号"], ["张三", "t-1"]]
    with pytest.raises(FormTooLarge, match="longer than"):
        csv_cells(b"," * 200_000)


def test_a_full_form_with_a_picture_is_read_its_binary_parts_counting_no_elements() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "所在市(州)", "姓名", "身份证号", "手机号", "平台账号", "粉丝数量", "经验", "备注"])
    for n in range(MAX_ROWS - 1):
        sheet.append([n, "武汉市", f"选手{n}", "420102197003033640", "13812345678", "抖音: a", 10, "无", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    picture = b"<" * 3_000_000  # a binary part's stray "<" bytes, more than the element cap
    content = _replace_members(buffer.getvalue(), {"xl/media/image1.png": picture})

    sheets = xlsx_sheets(content)

    assert len(sheets[0][1]) == MAX_ROWS
