"""Validated values: the only way raw input enters the domain."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Self

import phonenumbers
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from domain.errors import InvalidValue
from domain.text import check_text, person_name_problem


def _normalise(text: str) -> str:
    """Full-width digits and letters (common in Chinese input methods) become ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


class Group(StrEnum):
    TRAINEE = "trainee"
    VETERAN = "veteran"
    FAMILY = "family"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _GROUP_TITLES[self]

    @classmethod
    def parse(cls, raw: str) -> Group:
        text = _normalise(raw)
        for group, title in _GROUP_TITLES.items():
            if text.lower() == group.value or text in (title, title.removesuffix("组")):
                return group
        raise InvalidValue("group", f"{raw!r} is not one of trainee, veteran, family")


_GROUP_TITLES = {
    Group.TRAINEE: "全媒体运营师学员组",
    Group.VETERAN: "退役军人组",
    Group.FAMILY: "军属组",
}


class Channel(StrEnum):
    RECOMMENDED = "recommended"
    SELF = "self"


class Platform(StrEnum):
    DOUYIN = "douyin"
    KUAISHOU = "kuaishou"

    @property
    def title(self) -> str:  # type: ignore[override]
        """The platform's Chinese name (抖音, 快手)."""
        return _PLATFORM_NAMES[self][1]

    @classmethod
    def parse(cls, raw: str) -> Platform:
        text = _normalise(raw).lower()
        for platform, names in _PLATFORM_NAMES.items():
            if text in names:
                return platform
        raise InvalidValue("platform", f"{raw!r} is not Douyin (抖音) or Kuaishou (快手)")


_PLATFORM_NAMES = {
    Platform.DOUYIN: ("douyin", "抖音", "tiktok"),
    Platform.KUAISHOU: ("kuaishou", "快手"),
}


class Role(StrEnum):
    ADMIN = "admin"
    CITY_STAFF = "city_staff"
    JUDGE = "judge"
    AUDITOR = "auditor"
    LEADER = "leader"
    PUBLIC = "public"
    SCHEDULER = "scheduler"


# 附件1: recommendation quotas per city, (trainee, veteran). Family: no per-city quota.
CITY_QUOTAS: dict[str, tuple[int, int]] = {
    "武汉市": (222, 110),
    "黄石市": (25, 25),
    "十堰市": (112, 30),
    "襄阳市": (81, 30),
    "宜昌市": (51, 30),
    "荆州市": (90, 25),
    "荆门市": (33, 25),
    "鄂州市": (19, 25),
    "孝感市": (71, 25),
    "黄冈市": (82, 30),
    "咸宁市": (37, 25),
    "随州市": (27, 25),
    "恩施州": (92, 25),
    "仙桃市": (20, 20),
    "天门市": (24, 20),
    "潜江市": (11, 20),
    "神农架林区": (3, 10),
}
GROUP_CAP = 1000

_CITY_ALIASES = {"神农架": "神农架林区", "恩施土家族苗族自治州": "恩施州", "恩施": "恩施州"}


def parse_city(raw: str) -> str:
    """One of the 17 cities of 附件1, accepting the name with or without its suffix."""
    text = _normalise(raw).replace(" ", "")
    if text in CITY_QUOTAS:
        return text
    if text in _CITY_ALIASES:
        return _CITY_ALIASES[text]
    if f"{text}市" in CITY_QUOTAS:
        return f"{text}市"
    raise InvalidValue("city", f"{raw!r} is not one of the 17 cities of 附件1")


@dataclass(frozen=True)
class ResidentId:
    """The 18-character mainland resident ID number, check character verified."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        text = _normalise(raw).replace(" ", "")
        try:
            number = ric.compact(text)
            if len(number) != 18:
                raise stdnum_errors.InvalidLength()
            if not number[:-1].isdigit():
                raise stdnum_errors.InvalidFormat()
            if number[-1] != ric.calc_check_digit(number):
                raise stdnum_errors.InvalidChecksum()
            born = ric.get_birth_date(number)
        except stdnum_errors.ValidationError as error:
            problem = _ID_PROBLEMS.get(type(error), "not a valid number")
            raise InvalidValue("id_number", f"{_mask_id(text)}: {problem}") from None
        # ric.validate() also looks the region code up in a table of current codes;
        # numbers issued under since-abolished codes are genuine, so that check is skipped.
        # The date is not echoed: it would reveal the digits the mask hides. A date in the
        # future is refused by the nomination, which has an instant; values never read the clock.
        if born < date(1900, 1, 1):
            raise InvalidValue("id_number", f"{_mask_id(text)}: the birth date is implausible")
        return cls(number)

    @property
    def masked(self) -> str:
        return _mask_id(self.value)

    @property
    def birth_date(self) -> date:
        """The date of digits 7-14 (``ric.get_birth_date``, without cleaning a number ``parse``
        has already compacted)."""
        try:
            return date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))
        except ValueError:
            raise stdnum_errors.InvalidComponent() from None


_ID_PROBLEMS: dict[type[stdnum_errors.ValidationError], str] = {
    stdnum_errors.InvalidLength: "a resident ID number has 18 characters",
    stdnum_errors.InvalidFormat: "the first 17 characters must be digits",
    stdnum_errors.InvalidChecksum: "the check character does not match (mistyped number?)",
    stdnum_errors.InvalidComponent: "the birth date in the number is not a real date",
}


def _mask_id(value: str) -> str:
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


@dataclass(frozen=True)
class Mobile:
    """A mainland China mobile number, stored as its 11 national digits."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        text = _normalise(raw)
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            raise InvalidValue("mobile", "not a phone number") from None
        kind = phonenumbers.number_type(number)
        mobile_kinds = (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        if number.country_code != 86 or not phonenumbers.is_valid_number(number) or kind not in mobile_kinds:
            raise InvalidValue("mobile", f"{mask_mobile(text)} is not a mainland mobile number")
        return cls(str(number.national_number))

    @property
    def masked(self) -> str:
        return mask_mobile(self.value)


def mask_mobile(value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str) -> str:
    return _mask_id(value)


@dataclass(frozen=True)
class HandleRule:
    """What a platform accepts as an account id (抖音号, 快手号): the characters and the length."""

    title: str
    allowed: re.Pattern[str]
    allowed_words: str
    shortest: int
    longest: int

    def refusal(self, handle: str) -> str | None:
        """None when ``handle`` follows the rule; otherwise what is wrong, in words."""
        lowered = handle.lower()
        if "://" in lowered or lowered.startswith("www."):
            return f"a web address is not an account; give the {self.title}"
        if any(c.isspace() for c in handle):
            return f"one {self.title} without spaces (one account per contestant)"
        if ":" in handle or "：" in handle:
            return f"one {self.title} without a colon (one account per contestant)"
        if not self.allowed.fullmatch(handle):
            return f"a {self.title} has only {self.allowed_words}"
        if not self.shortest <= len(handle) <= self.longest:
            return f"a {self.title} has {self.shortest} to {self.longest} characters"
        return None


_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_.\-]+")
_ID_WORDS = "letters, digits, _ . and -"
# Both platforms' account ids are ASCII letters, digits and a few marks; nicknames are not ids.
HANDLE_RULES = {
    Platform.DOUYIN: HandleRule("抖音号 (Douyin id)", _ID_CHARACTERS, _ID_WORDS, 2, 30),
    Platform.KUAISHOU: HandleRule("快手号 (Kuaishou id)", _ID_CHARACTERS, _ID_WORDS, 2, 30),
}


@dataclass(frozen=True)
class Account:
    """One livestream account on Douyin or Kuaishou; handles compare case-insensitively."""

    platform: Platform
    handle: str

    @classmethod
    def parse(cls, platform: str, handle: str) -> Self:
        text = cls.handle_text(handle)
        chosen = Platform.parse(platform)
        problem = HANDLE_RULES[chosen].refusal(text)
        if problem:
            raise InvalidValue("account", problem)
        return cls(chosen, text)

    @staticmethod
    def handle_text(raw: str) -> str:
        """The handle as typed, without a leading @; an empty one or a refused character is refused."""
        check_text({"account": raw})
        text = _normalise(raw).lstrip("@").strip()
        if not text:
            raise InvalidValue("account", "the account handle is empty")
        return text

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.handle.casefold()}"


@dataclass(frozen=True)
class Actor:
    """Who took a decision: a user id, the role they acted in and, for city staff, their city."""

    user: str
    role: Role
    city: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))  # a plain string from the edge becomes a Role
        if not self.user.strip():
            raise InvalidValue("actor", "a decision needs the id of who took it")
        if self.role is Role.CITY_STAFF and self.city is None:
            raise InvalidValue("actor", "city staff act for one city, which is missing")


#: Fields of the form meant for several lines: tab and line breaks are allowed there.
_MULTILINE = frozenset({"experience", "notes"})

SCHEDULER = Actor(user="scheduler", role=Role.SCHEDULER)


@dataclass(frozen=True)
class Person:
    """What a nomination form says of one contestant (附件2), validated."""

    name: str
    id_number: ResidentId
    mobile: Mobile
    city: str
    group: Group
    account: Account
    followers: int
    experience: str = "无"
    notes: str = ""

    @classmethod
    def parse(
        cls,
        *,
        name: str,
        id_number: str,
        mobile: str,
        city: str,
        group: str,
        platform: str,
        account: str,
        followers: int,
        experience: str | None = None,
        notes: str | None = None,
    ) -> Self:
        problems, values = _checked_form(
            {
                "name": name,
                "id_number": id_number,
                "mobile": mobile,
                "city": city,
                "group": group,
                "platform": platform,
                "account": account,
                "followers": followers,
                "experience": experience,
                "notes": notes,
            }
        )
        if problems:
            raise InvalidValue.many(problems)
        return cls(
            name=values["name"],
            id_number=values["id_number"],
            mobile=values["mobile"],
            city=values["city"],
            group=values["group"],
            account=values["account"],
            followers=followers,
            experience=(experience or "").strip() or "无",
            notes=(notes or "").strip(),
        )

    @staticmethod
    def problems(fields: Mapping[str, object]) -> dict[str, str]:
        """What is wrong with each of the form fields given, by field; a field left out is not checked.

        For a form whose other fields a schema has already refused, so that one answer names
        every bad field. ``account`` is checked against ``platform`` when both are given.
        """
        return _checked_form(fields)[0]


_FORM_TEXT = ("name", "id_number", "mobile", "city", "group", "platform", "account", "experience", "notes")


def _checked_form(fields: Mapping[str, object]) -> tuple[dict[str, str], dict[str, Any]]:
    """The problems of the given form fields, and the values of those that passed (see ``Person``)."""
    text = {name: value for name, value in fields.items() if name in _FORM_TEXT and isinstance(value, str)}
    problems: dict[str, str] = {}
    try:
        check_text(text, multiline=_MULTILINE)
    except InvalidValue as error:
        problems.update(error.problems)
    values: dict[str, Any] = {}

    def check(name: str, parse: Callable[[str], object]) -> None:
        raw = text.get(name)
        if raw is None or name in problems:
            return
        try:
            values[name] = parse(raw)
        except InvalidValue as error:
            problems.update(error.problems)

    def person_name(raw: str) -> str:
        clean = _normalise(raw)
        if not clean or len(clean) > 50:
            raise InvalidValue("name", "a name of 1 to 50 characters is required")
        if (unnamed := person_name_problem(clean)) is not None:
            raise InvalidValue("name", unnamed)
        return clean

    check("name", person_name)
    followers = fields.get("followers")
    if isinstance(followers, int) and followers < 0:
        problems["followers"] = "the follower count cannot be negative"
    check("id_number", ResidentId.parse)
    check("mobile", Mobile.parse)
    check("city", parse_city)
    check("group", Group.parse)
    check("platform", Platform.parse)  # named on its own, whatever the handle
    platform = text.get("platform")
    if platform is not None and "platform" not in problems:
        check("account", lambda handle: Account.parse(platform, handle))
    else:  # the platform is refused or missing: the handle is checked against every platform's rule
        check("account", _handle_of_any_platform)
    return problems, values


def _handle_of_any_platform(raw: str) -> str:
    """A handle whatever its platform: refused only when every platform's rule refuses it."""
    text = Account.handle_text(raw)
    refusals = [rule.refusal(text) for rule in HANDLE_RULES.values()]
    if all(refusals):
        raise InvalidValue("account", str(refusals[0]))
    return text


# A resident ID number (6 + 8 + 3 digits and a check character) or a mainland mobile number
# (optionally +86), with the spaces or dashes people put between the groups.
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx](?![\dA-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d+＋])(?:[+＋]?\d\d[ -]?)?\d{3}[ -]?\d{4}[ -]?\d{4}(?!\d)")


def mask_free_text(text: str) -> str:
    """Typed text (a reason, evidence, a contact, notes) with any ID or mobile number in it masked."""
    masked = _ID_IN_TEXT.sub(lambda found: _mask_id(re.sub(r"[ -]", "", found.group())), text)
    return _MOBILE_IN_TEXT.sub(_mask_mobile_match, masked)


def _mask_mobile_match(found: re.Match[str]) -> str:
    digits = unicodedata.normalize("NFKC", "".join(c for c in found.group() if c.isdigit()))  # full-width too
    national = digits[-11:]
    if (len(digits) == 13 and not digits.startswith("86")) or not re.fullmatch(r"1[3-9]\d{9}", national):
        return found.group()  # another number (an order, a landline): left as typed
    return mask_mobile(national)
