"""Reading 附件2 forms as people fill them in."""

from __future__ import annotations

import pytest

from application.recommendation_form import FormUnreadable, parse_followers, read_form, split_account
from tests.form_files import as_csv, as_xlsx, form_cells, person_id, person_row


def test_an_xlsx_form_yields_its_header_fields_and_people_but_not_the_example() -> None:
    form = read_form(as_xlsx(form_cells([person_row(1), person_row(2, "黄石市")])), "武汉.xlsx")
    assert (form.unit, form.contact, form.group) == ("武汉市退役军人事务局", "王科长", "全媒体运营师学员组")
    assert [(r.line, r.name, r.city) for r in form.rows] == [(5, "学员1", "武汉市"), (6, "学员2", "黄石市")]
    first = form.rows[0]
    assert (first.id_number, first.platform, first.account, first.followers) == (
        person_id(1),
        "douyin",
        "trainee_1",
        12_000,
    )
    assert first.problems == {}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_csv_form_is_read_in_utf8_or_gbk(encoding: str) -> None:
    form = read_form(as_csv(form_cells([person_row(3)]), encoding), "form.csv")
    assert [r.name for r in form.rows] == ["学员3"]


def test_header_values_in_the_next_cell_are_found() -> None:
    meta: list[object] = ["推荐单位", "黄冈市退役军人事务局", "联系人", "李四", "参赛组别", "退役军人组"]
    cells = [meta, *form_cells([])[2:]]
    form = read_form(as_csv(cells), "f.csv")
    assert (form.unit, form.contact, form.group) == ("黄冈市退役军人事务局", "李四", "退役军人组")


def test_an_id_number_stored_as_a_spreadsheet_number_is_reported_not_guessed() -> None:
    row = person_row(4)
    row[3] = 420102198001010041  # what Excel keeps of an unformatted long number
    form = read_form(as_xlsx(form_cells([row])), "f.xlsx")
    assert "format the column as text" in form.rows[0].problems["id_number"]


def test_a_cell_holding_a_formula_and_no_value_is_reported_where_it_is() -> None:
    named = person_row(5)
    named[2] = '=HYPERLINK("http://example.invalid","学员5")'  # openpyxl saves no computed value
    accounted = person_row(6)
    accounted[5] = '=CONCAT("抖音: ","trainee_6")'
    form = read_form(as_xlsx(form_cells([named, accounted, person_row(7)])), "f.xlsx")
    five, six, seven = form.rows
    assert (five.line, five.name, five.problems) == (
        5,
        "",
        {"name": "the cell in row 5, column 3 holds a formula and no value; type the value itself"},
    )
    assert six.problems == {
        "account": "the cell in row 6, column 6 holds a formula and no value; type the value itself"
    }
    assert seven.problems == {}


def test_a_row_of_formulas_and_no_values_is_refused_naming_its_cells_not_skipped() -> None:
    copied = ["=ROW()-4", "=B5", "=C4", "=D4", "=E4", "=F4", "=G4", "", ""]  # all computed by nobody
    form = read_form(as_xlsx(form_cells([copied, person_row(8)])), "f.xlsx")
    assert [row.line for row in form.rows] == [5, 6]
    where = {key: problem.split(" holds")[0] for key, problem in form.rows[0].problems.items()}
    assert {key: where[key] for key in ("name", "id_number", "mobile", "account")} == {
        "name": "the cell in row 5, column 3",
        "id_number": "the cell in row 5, column 4",
        "mobile": "the cell in row 5, column 5",
        "account": "the cell in row 5, column 6",
    }
    assert form.rows[1].problems == {}


def test_a_formula_left_in_the_serial_column_alone_is_no_person() -> None:
    form = read_form(as_xlsx(form_cells([person_row(9), ["=ROW()-4"]])), "f.xlsx")
    assert [row.line for row in form.rows] == [5]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"PK\x03\x04 not really a zip", "f.xlsx", "not an .xlsx workbook"),
        (b"%PDF-1.7", "f.pdf", "only .xlsx and .csv"),
        (as_csv([["name", "phone"], ["x", "y"]]), "f.csv", "no header row"),
        (b"\xff\xfe\x00\x81\x00", "f.csv", "neither UTF-8 nor GBK"),
    ],
)
def test_a_file_that_is_not_a_form_is_refused_whole(content: bytes, filename: str, message: str) -> None:
    with pytest.raises(FormUnreadable, match=message):
        read_form(content, filename)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("抖音: zhangsan", ("douyin", "zhangsan")),
        ("抖音号：@li_si", ("douyin", "@li_si")),
        ("快手 wangwu", ("kuaishou", "wangwu")),
        ("Douyin:ZS", ("douyin", "ZS")),
        ("zhangsan", ("", "zhangsan")),
    ],
)
def test_platform_and_account_are_split_as_typed(typed: str, expected: tuple[str, str]) -> None:
    assert split_account(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("50 万", 500_000),
        ("1.2w", 12_000),
        ("3,000", 3_000),
        ("3000人", 3_000),
        ("", 0),
        ("无", 0),
        ("5k", 5_000),
        ("很多", None),
    ],
)
def test_follower_counts_are_read_as_typed(typed: str, expected: int | None) -> None:
    assert parse_followers(typed) == expected
