"""The orders people read lists in: cities as 附件1 lists them, groups as the notice, names by pinyin."""

from __future__ import annotations

from pypinyin import Style
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin

from domain.values import CITY_QUOTAS, Group

_CITY_RANK = {city: rank for rank, city in enumerate(CITY_QUOTAS)}
_GROUP_RANK = {group.value: rank for rank, group in enumerate(Group)}
#: What ``lazy_pinyin(..., neutral_tone_with_five=True)`` builds for every call.
_PINYIN = Pinyin(UltimateConverter(neutral_tone_with_five=True))
#: A segment of a name (a character, mostly, or a phrase) -> its syllables. A segment reads
#: alike wherever it stands, and names share most of their characters: a replay that sorts
#: thousands of names converts each character once. Bounded: foreign names are many.
_SEGMENTS: dict[str, list[str]] = {}
_MOST_SEGMENTS = 50_000


def city_order(city: str) -> tuple[int, str]:
    """附件1's order (武汉市 first, 神农架林区 last); an unlisted city after them, by name."""
    return (_CITY_RANK.get(city, len(_CITY_RANK)), city)


def group_order(group: str) -> tuple[int, str]:
    return (_GROUP_RANK.get(group, len(_GROUP_RANK)), group)


def name_order(name: str) -> str:
    """A sort key that orders Chinese names by pinyin (tone as a digit), as Chinese readers expect.

    "李四" -> "li3si40李四". Each syllable ends in its tone digit, which sorts before any
    letter, so "li3" comes before "lin2" with no separator (PostgreSQL collations may skip
    spaces and punctuation; letters and digits compare alike everywhere). "0" then the name
    itself break ties between characters read alike. Latin letters sort among the syllables.
    """
    syllables: list[str] = []
    for segment in _PINYIN.seg(name):
        found = _SEGMENTS.get(segment)
        if found is None:
            # a segment in a list is converted as it stands, as the whole name converts it
            found = _PINYIN.lazy_pinyin([segment], style=Style.TONE3, errors="default")
            if len(_SEGMENTS) < _MOST_SEGMENTS:
                _SEGMENTS[segment] = found
        syllables += found
    return "".join(s.lower() for s in syllables) + "0" + name
