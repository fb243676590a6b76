"""Spreadsheets for people: the roster laid out like the recommendation form of 附件2."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook

from domain.values import Group
from projections.cells import xlsx_row
from projections.roster import RosterRow

TITLE = "湖北省退役军人“全媒体运营师”培训成果展示暨“战友杯”直播大赛选手名单"
HEADER = [
    "序号", "所在市(州)", "姓名", "身份证号", "手机号", "参赛直播平台及账号(只限填一个)", "粉丝数量",
    "参赛组别", "状态", "备注",
]  # fmt: skip
_PLATFORMS = {"douyin": "抖音", "kuaishou": "快手"}
_STATUSES = {
    "nominated": "已报名", "verified": "审核通过", "enrolled": "已分配培训账号", "trained": "已完成培训",
    "competed": "已参赛", "advanced": "进入决赛", "awarded": "获奖", "rejected": "审核未通过",
    "withdrawn": "已退出", "disqualified": "取消资格",
}  # fmt: skip


def roster_workbook(rows: Iterable[RosterRow], campaign_name: str) -> bytes:
    """One sheet: the notice's title, the campaign, then 附件2's columns with masked numbers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    sheet.append([TITLE])
    sheet.append(xlsx_row(sheet, [f"活动: {campaign_name}"]))
    sheet.append(HEADER)
    for serial, row in enumerate(rows, start=1):
        sheet.append(xlsx_row(sheet, [
            serial, row.city, row.name, row.id_number, row.mobile,
            f"{_PLATFORMS.get(row.platform, row.platform)}: {row.account}", row.followers,
            Group(row.group).title, _STATUSES.get(row.status, row.status), row.award or "",
        ]))  # fmt: skip
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
