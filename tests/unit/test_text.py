"""Which characters text may hold, the copies views and exports store, numbers masked in free text."""

from __future__ import annotations

import pytest

from application.form_files import MAX_LINE_CHARS, FormTooLarge, FormUnreadable, csv_rows
from domain.decision import Decision
from domain.errors import InvalidValue
from domain.text import check_text, person_name_problem, printable, text_problem
from domain.values import Person, mask_free_text
from projections.cells import csv_value, xlsx_text
from tests.builders import ADMIN, id_number


@pytest.mark.parametrize(
    "bad", ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\u202e", "\u2066"]
)
def test_control_characters_surrogates_and_bidi_overrides_are_refused(bad: str) -> None:
    assert text_problem(f"张{bad}三") is not None
    assert text_problem(f"张{bad}三", multiline=True) is not None


def test_tab_and_line_breaks_only_where_several_lines_are_meant() -> None:
    assert text_problem("a\tb\nc\r\n") is not None
    assert text_problem("a\tb\nc\r\n", multiline=True) is None
    assert text_problem("a\u200bb😀", multiline=True) is None  # zero-width space and emoji in notes


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


@pytest.mark.parametrize(
    "unseen",
    [
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u00ad",
        "\u2028",
        "\u2029",
        "\u3164",
        "\u115f",
        "\u1160",
        "\uffa0",
        "\u2800",
    ],
)
def test_a_one_line_field_refuses_what_shows_nothing_and_names_it(unseen: str) -> None:
    problem = text_problem(f"张{unseen}三")
    assert problem is not None
    assert f"U+{ord(unseen):04X}" in problem
    assert "invisible" in problem
    with pytest.raises(InvalidValue) as refused:
        check_text({"contact": f"王{unseen}科长"})
    assert set(refused.value.problems) == {"contact"}


@pytest.mark.parametrize(
    "joined",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family: joiners inside an emoji sequence
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # after the presentation selector
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # a flag's tags
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a non-joiner inside a word
        "\u182e\u1823\u1829\u182d\u1823\u182f\u180e\u1820",  # Mongolian: the vowel separator
    ],
)
def test_a_format_character_that_joins_what_it_sits_in_is_taken(joined: str) -> None:
    assert text_problem(f"退役军人服务站{joined}") is None


@pytest.mark.parametrize(
    "split", ["张\u200d三", "张\u200c三", "a\u200db", "\U000e0067abc", "\u200d\U0001f468"]
)
def test_a_joiner_between_letters_that_need_none_is_refused(split: str) -> None:
    assert text_problem(split) is not None


@pytest.mark.parametrize(
    "name", ["\u200d", "\u3164", "\u2800", "\u0301\u0302", "张\u200b三", "\ufeff张三", "张\u2028三"]
)
def test_a_persons_name_of_no_visible_letter_or_with_an_unseen_character_is_refused(name: str) -> None:
    fields = {**_PERSON, "name": name}
    with pytest.raises(InvalidValue) as refused:
        Person.parse(**fields)  # type: ignore[arg-type]
    assert set(refused.value.problems) == {"name"}


def test_names_of_letters_are_taken_and_folded_as_account_names_are() -> None:
    assert person_name_problem("张三") is None
    assert person_name_problem("买买提·艾力") is None
    assert person_name_problem("\u0301") is not None
    assert person_name_problem("123") is not None
    assert Person.parse(**{**_PERSON, "name": "Ｚｈａｎｇ"}).name == "Zhang"  # type: ignore[arg-type]


_PERSON = {
    "id_number": id_number(1),
    "mobile": "13812345678",
    "city": "武汉市",
    "group": "trainee",
    "platform": "douyin",
    "account": "zhanyou_a",
    "followers": 1,
}
