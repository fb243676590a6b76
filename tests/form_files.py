"""Recommendation forms (附件2) as bureaus send them, built in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta

from openpyxl import Workbook
from stdnum.cn import ric

HEADER: list[object] = [
    "序号",
    "所在市(州)",
    "姓名",
    "身份证号",
    "手机号",
    "参赛直播平台及账号(只限填一个)",
    "粉丝数量",
    "直播经验、亮点战绩、荣誉等(建议详细填写,无直播经历填写无)",
    "备注",
]
EXAMPLE: list[object] = [
    "*示例",
    "武汉市",
    "张三",
    "42xxxxxxxxxxxx xxx",
    "1820000000 0",
    "抖音: zhangsan",
    "50 万",
    "3 年直播带货经验",
    "",
]


def person_id(n: int) -> str:
    """A valid ID number for any n (the birth date varies beyond 1,000)."""
    born = date(1980, 1, 1) + timedelta(days=n // 1000)
    body = f"420102{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def person_row(n: int, city: str = "武汉市") -> list[object]:
    return [n, city, f"学员{n}", person_id(n), f"139{n:08d}", f"抖音: trainee_{n}", "1.2万", "无", ""]


def form_cells(rows: Sequence[Sequence[object]], *, group: str = "全媒体运营师学员组") -> list[list[object]]:
    return [
        ["湖北省退役军人“全媒体运营师”培训成果展示暨“战友杯”直播大赛选手推荐表"],
        [f"推荐单位: 武汉市退役军人事务局 联系人: 王科长 参赛组别: {group}"],
        HEADER,
        EXAMPLE,
        *[list(row) for row in rows],
    ]


def as_xlsx(cells: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in cells:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def as_csv(cells: Sequence[Sequence[object]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(cells)
    return out.getvalue().encode(encoding)
