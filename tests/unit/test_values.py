"""Validated values: ID numbers, mobiles, cities, groups, platforms, accounts, the form."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from domain.errors import InvalidValue
from domain.values import (
    CITY_QUOTAS,
    Account,
    Actor,
    Group,
    Mobile,
    Person,
    Platform,
    ResidentId,
    Role,
    mask_id_number,
    mask_mobile,
    parse_city,
)
from tests.unit.helpers import check_character, resident_id

# The example number of GB 11643-1999 itself; its check character is X.
STANDARD_EXAMPLE = "11010519491231002X"


def stdnum_accepts(number: str) -> bool:
    try:
        return bool(ric.is_valid(number))
    except KeyError:  # stdnum 2.x fails this way on a region code missing from its table
        return False


def test_our_check_character_agrees_with_the_standard() -> None:
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    assert check_character("36042619910101007") == "1"  # stdnum's documented example


# --- resident ID numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        STANDARD_EXAMPLE,
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
    ],
)
def test_genuine_numbers_are_accepted_in_every_common_spelling(raw: str) -> None:
    assert ResidentId.parse(raw).value == STANDARD_EXAMPLE


def test_a_number_with_a_digit_check_character_is_accepted() -> None:
    number = resident_id("42010219850101001")
    assert number[-1].isdigit()
    assert ResidentId.parse(number).value == number


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("110105194912310021", "the check character does not match"),
        ("11010519491231002", "has 18 characters"),
        ("11010519491231002X1", "has 18 characters"),
        ("", "has 18 characters"),
        ("A1010519491231002X", "the first 17 characters must be digits"),
        (resident_id("11010519490231002"), "not a real date"),  # 31 Feb 1949, correct check character
        (resident_id("11010519491301002"), "not a real date"),  # month 13
        (resident_id("42010218990101001"), "implausible"),
    ],
)
def test_bad_numbers_are_refused(raw: str, problem: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        ResidentId.parse(raw)
    assert set(refused.value.problems) == {"id_number"}
    assert problem in refused.value.problems["id_number"]


def test_a_refusal_does_not_show_the_whole_number() -> None:
    with pytest.raises(InvalidValue) as refused:
        ResidentId.parse("110105194912310021")
    assert "110105194912310021" not in str(refused.value)
    assert "110105********0021" in str(refused.value)


@pytest.mark.parametrize(
    "first17",
    [
        # 麻城市 under the former 黄冈地区 (code 422101, in use 1986-1995), for a man born 1980.
        "42210119800101001",
        # 江岸区, Wuhan (420102): stdnum's table dates the code from 1983, so a person born
        # in 1960 there fails its check, though such numbers are issued every day.
        "42010219600105123",
        # 420108: a code stdnum's table does not list at all.
        "42010819800101001",
    ],
)
def test_region_codes_outside_stdnums_current_table_are_accepted(first17: str) -> None:
    number = resident_id(first17)
    assert not stdnum_accepts(number), "the example must be one stdnum itself rejects"
    assert ResidentId.parse(number).value == number


def test_masking_keeps_the_region_and_the_last_four() -> None:
    parsed = ResidentId.parse("420102196001051234")
    assert parsed.masked == "420102********1234"
    assert mask_id_number("420102196001051234") == "420102********1234"
    assert mask_id_number("123") == "***"


# --- mobile numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138 0013 8000",
        "138-0013-8000",
        "13800138000",
        "+8613800138000",
        "(+86)13800138000",
        "008613800138000",
        "１３８００１３８０００",
        " 138 0013 8000 ",
    ],
)
def test_mainland_mobiles_are_accepted_in_common_spellings(raw: str) -> None:
    assert Mobile.parse(raw).value == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "027-87654321",  # a Wuhan landline
        "02787654321",
        "1380013800",  # ten digits
        "138001380001",  # twelve digits
        "+1 650 253 0000",  # not mainland
        "400-810-8888",  # a service number
        "10086",
        "not a number",
        "",
    ],
)
def test_other_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Mobile.parse(raw)
    assert set(refused.value.problems) == {"mobile"}


def test_a_refused_mobile_is_masked_in_the_message() -> None:
    with pytest.raises(InvalidValue) as refused:
        Mobile.parse("1380013800")
    assert "1380013800" not in str(refused.value)


def test_mobile_masking() -> None:
    assert Mobile.parse("13812345678").masked == "138****5678"
    assert mask_mobile("138-1234-5678") == "138****5678"
    assert mask_mobile("12345") == "*****"


# --- cities, groups, platforms, accounts --------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("神农架", "神农架林区"),
        ("神农架林区", "神农架林区"),
        ("武汉", "武汉市"),
        ("武汉市", "武汉市"),
        (" 黄 石 ", "黄石市"),
        ("潜江", "潜江市"),
        ("恩施", "恩施州"),
        ("恩施州", "恩施州"),
        ("恩施土家族苗族自治州", "恩施州"),
    ],
)
def test_cities_are_recognised_with_or_without_their_suffix(raw: str, city: str) -> None:
    assert parse_city(raw) == city


def test_all_seventeen_cities_parse_to_themselves() -> None:
    assert len(CITY_QUOTAS) == 17
    assert all(parse_city(city) == city for city in CITY_QUOTAS)
    assert sum(t for t, _ in CITY_QUOTAS.values()) == 1000
    assert sum(v for _, v in CITY_QUOTAS.values()) == 500


@pytest.mark.parametrize("raw", ["北京市", "长沙", "", "武汉市市"])
def test_places_outside_the_seventeen_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_city(raw)
    assert set(refused.value.problems) == {"city"}


@pytest.mark.parametrize(
    ("raw", "group"),
    [
        ("trainee", Group.TRAINEE),
        ("TRAINEE", Group.TRAINEE),
        ("全媒体运营师学员组", Group.TRAINEE),
        ("全媒体运营师学员", Group.TRAINEE),
        ("veteran", Group.VETERAN),
        ("退役军人组", Group.VETERAN),
        ("退役军人", Group.VETERAN),
        ("family", Group.FAMILY),
        ("军属组", Group.FAMILY),
        (" 军属 ", Group.FAMILY),
    ],
)
def test_groups_by_code_and_chinese_name(raw: str, group: Group) -> None:
    assert Group.parse(raw) is group


def test_group_titles_and_unknown_groups() -> None:
    assert [g.title for g in Group] == ["全媒体运营师学员组", "退役军人组", "军属组"]
    with pytest.raises(InvalidValue, match="group"):
        Group.parse("学生组")


@pytest.mark.parametrize(
    ("raw", "platform"),
    [
        ("抖音", Platform.DOUYIN),
        ("Douyin", Platform.DOUYIN),
        ("快手", Platform.KUAISHOU),
        (" kuaishou ", Platform.KUAISHOU),
    ],
)
def test_platforms(raw: str, platform: Platform) -> None:
    assert Platform.parse(raw) is platform


@pytest.mark.parametrize("raw", ["微博", "bilibili", "视频号", ""])
def test_other_platforms_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Platform.parse(raw)
    assert set(refused.value.problems) == {"platform"}


def test_account_handles_compare_case_insensitively() -> None:
    a = Account.parse("抖音", "@ZhanYou_Wang")
    b = Account.parse("douyin", "zhanyou_wang")
    assert a.handle == "ZhanYou_Wang"
    assert a.key == b.key == "douyin:zhanyou_wang"
    assert Account.parse("快手", "zhanyou_wang").key != a.key


@pytest.mark.parametrize("handle", ["", "  ", "@", "x" * 65])
def test_bad_handles_are_refused(handle: str) -> None:
    with pytest.raises(InvalidValue, match="account"):
        Account.parse("douyin", handle)


# --- actors and the whole form -------------------------------------------------------------


def test_actors_need_an_id_and_city_staff_a_city() -> None:
    with pytest.raises(InvalidValue, match="actor"):
        Actor(user=" ", role=Role.ADMIN)
    with pytest.raises(InvalidValue, match="city"):
        Actor(user="s1", role=Role.CITY_STAFF)


def _form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "name": " 王小明 ",
        "id_number": STANDARD_EXAMPLE,
        "mobile": "138-0013-8000",
        "city": "神农架",
        "group": "退役军人组",
        "platform": "快手",
        "account": "@wxm",
        "followers": 1200,
    }
    form.update(overrides)
    return form


def test_a_good_form_becomes_a_person() -> None:
    who = Person.parse(**_form(experience="  ", notes=" 备注 "))  # type: ignore[arg-type]
    assert who.name == "王小明"
    assert who.id_number.value == STANDARD_EXAMPLE
    assert who.mobile.value == "13800138000"
    assert who.city == "神农架林区"
    assert who.group is Group.VETERAN
    assert who.account == Account(Platform.KUAISHOU, "wxm")
    assert who.experience == "无"
    assert who.notes == "备注"


def test_every_bad_field_of_a_form_is_reported_at_once() -> None:
    bad = _form(
        name="",
        id_number="110105194912310021",
        mobile="027-87654321",
        city="长沙",
        group="学生",
        platform="微博",
        followers=-1,
    )
    with pytest.raises(InvalidValue) as refused:
        Person.parse(**bad)  # type: ignore[arg-type]
    assert set(refused.value.problems) == {
        "name",
        "id_number",
        "mobile",
        "city",
        "group",
        "platform",
        "followers",
    }
    for field in refused.value.problems:
        assert field in refused.value.detail
    assert refused.value.rule == "invalid_value"


def test_a_form_with_one_bad_field_names_only_that_field() -> None:
    with pytest.raises(InvalidValue) as refused:
        Person.parse(**_form(account=" "))  # type: ignore[arg-type]
    assert refused.value.problems == {"account": "the account handle is empty"}


def test_a_forms_problems_are_named_for_the_fields_given_alone() -> None:
    """What a schema let through is still checked, so one answer names every bad field."""
    assert Person.problems({"city": "北京", "mobile": "1370000", "platform": "douyin", "account": ""}) == {
        "mobile": "1370000 is not a mainland mobile number",
        "city": "'北京' is not one of the 17 cities of 附件1",
        "account": "the account handle is empty",
    }
    assert Person.problems({"account": "a b"}) == {
        "account": "one 抖音号 (Douyin id) without spaces (one account per contestant)"
    }
    assert Person.problems({}) == {}
