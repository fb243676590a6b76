"""Spreadsheets for people: the roster laid out like the recommendation form of 附件2."""

from __future__ import annotations

from collections.abc import Iterable

from api.exports import workbook_bytes
from domain.values import Group, mask_free_text
from projections.ordering import city_order, name_order
from projections.roster import RosterRow

TITLE = "湖北省退役军人“全媒体运营师”培训成果展示暨“战友杯”直播大赛选手名单"
HEADER = [
    "序号",
    "所在市(州)",
    "姓名",
    "身份证号",
    "手机号",
    "参赛直播平台及账号(只限填一个)",
    "粉丝数量",
    "直播经验、亮点战绩、荣誉",
    "备注",
    "参赛组别",
    "状态",
    "获奖",
]
WIDTHS = [6, 12, 10, 22, 14, 30, 10, 40, 24, 20, 14, 14]
_PLATFORMS = {"douyin": "抖音", "kuaishou": "快手"}
_STATUSES = {
    "nominated": "已报名",
    "verified": "审核通过",
    "enrolled": "已分配培训账号",
    "trained": "已完成培训",
    "competed": "已参赛",
    "advanced": "进入决赛",
    "awarded": "获奖",
    "rejected": "审核未通过",
    "withdrawn": "已退出",
    "disqualified": "取消资格",
}


def roster_workbook(rows: Iterable[RosterRow], campaign_name: str) -> bytes:
    """One sheet: the notice's title, the campaign, then 附件2's columns with masked numbers.

    Cities in 附件1's order, names by pinyin within a city; the header row is frozen and
    filtered.
    """
    ordered = sorted(rows, key=lambda r: (city_order(r.city), name_order(r.name), str(r.contestant_id)))
    body = [
        [
            serial,
            row.city,
            row.name,
            row.id_number,
            row.mobile,
            f"{_PLATFORMS.get(row.platform, row.platform)}: {row.account}",
            row.followers,
            mask_free_text(row.experience),  # typed text: a number in it is masked as in every answer
            mask_free_text(row.notes),
            Group(row.group).title,
            _STATUSES.get(row.status, row.status),
            row.award or "",
        ]
        for serial, row in enumerate(ordered, start=1)
    ]
    preamble = [[TITLE], [f"活动: {campaign_name}"]]
    return workbook_bytes("名单", HEADER, body, WIDTHS, preamble=preamble)
