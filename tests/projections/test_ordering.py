"""Names sort by pinyin, each segment of a name converted once and remembered."""

from __future__ import annotations

import pytest
from pypinyin import Style, lazy_pinyin

from projections.ordering import name_order

#: Polyphonic surnames and phrases, Latin and mixed text, characters with no pinyin.
NAMES = [
    "李四",
    "重庆",
    "曾国藩",
    "单田芳",
    "长孙无忌",
    "欧阳娜娜",
    "尉迟恭",
    "解缙",
    "覃",
    "乐嘉",
    "区某",
    "朴树",
    "衣裳",
    "银行行长",
    "John Smith",
    "Zhang San",
    "王 五",
    "阿依古丽·买买提",
    "x1",
    "",
    "Ελένη",
    "😀李",
]


def _whole(name: str) -> str:
    """The key as the whole name converted at once gives it."""
    syllables = lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True, errors="default")
    return "".join(s.lower() for s in syllables) + "0" + name


@pytest.mark.parametrize("name", NAMES)
def test_a_name_orders_as_its_whole_pinyin_does(name: str) -> None:
    assert name_order(name) == _whole(name)


def test_a_segment_remembered_from_one_name_reads_as_it_does_in_another() -> None:
    for name in ("银行", "行长", "长大", "重要", "重庆", "曾经", "曾国藩"):
        assert name_order(name) == _whole(name)
    assert name_order("李四") == "li3si40李四"
    assert sorted(NAMES, key=name_order) == sorted(NAMES, key=_whole)
