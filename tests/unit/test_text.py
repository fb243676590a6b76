"""Which characters text may hold, the copies views and exports store, numbers masked in free text."""

from __future__ import annotations

import pytest

from application.form_files import MAX_LINE_CHARS, FormTooLarge, FormUnreadable, csv_rows
from domain.decision import Decision
from domain.errors import InvalidValue
from domain.text import check_text, printable, text_problem
from domain.values import Person, mask_free_text
from projections.cells import csv_value, xlsx_text
from tests.builders import ADMIN


@pytest.mark.parametrize(
    "bad", ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\u202e", "\u2066"]
)
def test_control_characters_surrogates_and_bidi_overrides_are_refused(bad: str) -> None:
    assert text_problem(f"张{bad}三") is not None
    assert text_problem(f"张{bad}三", multiline=True) is not None


def test_tab_and_line_breaks_only_where_several_lines_are_meant() -> None:
    assert text_problem("a\tb\nc\r\n") is not None
    assert text_problem("a\tb\nc\r\n", multiline=True) is None
    assert text_problem("a\u200bb😀") is None  # zero-width space and emoji are text


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidValue) as refused:
        check_text({"name": "a\x00", "notes": "ok\n", "city": "b\x01"}, multiline=frozenset({"notes"}))
    assert set(refused.value.problems) == {"name", "city"}


def test_the_domain_refuses_them_where_text_enters() -> None:
    with pytest.raises(InvalidValue) as refused:
        Person.parse(
            name="张\x00三",
            id_number="420102199001011234",
            mobile="13812345678",
            city="武汉市",
            group="trainee",
            platform="douyin",
            account="a",
            followers=1,
            notes="x\x01",
        )
    assert {"name", "notes"} <= set(refused.value.problems)
    with pytest.raises(InvalidValue, match="reason"):
        Decision.of(ADMIN, 1, reason="不符合\x00")


def test_stored_copies_and_exports_replace_what_cannot_be_stored() -> None:
    assert printable("张\x00三\ud800") == "张\ufffd三\ufffd"
    assert printable("a\tb\nc") == "a\tb\nc"
    assert xlsx_text("a\x01b") == "a\ufffdb"
    assert csv_value("=\x00cmd") == "'=\ufffdcmd"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("请联系 13812345678", "请联系 138****5678"),
        ("+86 138-1234-5678 王", "138****5678 王"),
        ("１３８１２３４５６７８", "138****5678"),
        ("身份证 420102199001011234。", "身份证 420102********1234。"),
        ("42010219900101123x", "420102********123x"),
        ("订单号 1234567890123456789", "订单号 1234567890123456789"),
        ("座机 027-12345678", "座机 027-12345678"),
    ],
)
def test_numbers_typed_into_free_text_are_masked(typed: str, shown: str) -> None:
    assert mask_free_text(typed) == shown


def test_csv_lines_and_fields_are_capped_while_reading() -> None:
    with pytest.raises(FormTooLarge):
        csv_rows("," * (MAX_LINE_CHARS + 1))
    with pytest.raises(FormUnreadable, match="field larger than field limit"):
        csv_rows('a,"' + ("x" * 999 + "\n") * 140 + '"\n')
    assert csv_rows("a,b\r\nc\n") == [["a", "b"], ["c"]]
