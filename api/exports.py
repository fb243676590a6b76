"""Exports for clerks: Chinese headers and event names, Beijing time, names instead of ids.

CSV files start with a byte-order mark, so Excel on Chinese Windows reads them as UTF-8;
workbooks have a frozen header row, a filter on it and columns wide enough to read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from api.messages_zh import EVENTS, SUBJECTS
from domain.timeline import SHANGHAI
from projections.audit import AuditEntry
from projections.cells import csv_value, xlsx_row

ROLE_TITLES = {
    "admin": "组委会",
    "city_staff": "市州退役军人局",
    "judge": "评委",
    "auditor": "审计",
    "leader": "领导",
    "public": "公众",
    "scheduler": "系统(按日程)",
}
AUDIT_HEADER = [
    "序号",
    "时间(北京时间)",
    "决定",
    "对象类型",
    "对象",
    "市(州)",
    "决定人",
    "决定人角色",
    "决定人所属市(州)",
    "理由",
    "依据材料",
    "规则版本",
]
AUDIT_WIDTHS = [8, 20, 14, 10, 18, 12, 16, 14, 14, 40, 30, 8]


def local_time(utc_text: str) -> str:
    """A stored UTC instant as a clerk reads it: 2021-06-10 10:00:00 (Beijing time)."""
    return datetime.fromisoformat(utc_text).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def masked_name(name: str) -> str:
    """张三 -> 张*: for readers who see people only in aggregate."""
    return name[:1] + "*" * (len(name) - 1) if name else name


def audit_rows(
    entries: Iterable[AuditEntry], *, names: Mapping[str, str], campaign_name: str, named: bool
) -> Iterable[list[Any]]:
    for entry in entries:
        yield [
            entry.notification_id,
            local_time(entry.at),
            EVENTS.get(entry.event_type, entry.event_type),
            SUBJECTS.get(entry.aggregate_type, entry.aggregate_type),
            _subject(entry, names, campaign_name, named),
            entry.city or "",
            entry.actor_user,
            ROLE_TITLES.get(entry.actor_role, entry.actor_role),
            entry.actor_city or "",
            entry.reason or "",
            entry.evidence or "",
            entry.rule_version,
        ]


def _subject(entry: AuditEntry, names: Mapping[str, str], campaign_name: str, named: bool) -> str:
    if entry.aggregate_type == "Campaign":
        return campaign_name
    if entry.aggregate_type == "CityTeam":
        return f"{entry.city or ''}代表队"
    name = names.get(entry.subject_id or entry.aggregate_id)  # a read: the person whose data it was
    if name is None:
        return entry.aggregate_id  # a subject the roster does not know (yet): its id
    return name if named else masked_name(name)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark; values a spreadsheet would run are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([csv_value(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def workbook_bytes(
    sheet_title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int],
    *,
    preamble: Sequence[Sequence[Any]] = (),
) -> bytes:
    """One sheet: optional title lines, then the header (frozen, with a filter) and the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    header_row = len(preamble) + 1
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    last_column = get_column_letter(len(header))
    sheet.auto_filter.ref = f"A{header_row}:{last_column}{header_row + max(len(rows), 1)}"
    for line in preamble:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
