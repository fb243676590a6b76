"""Exports for clerks: BOM on CSV, Chinese headers and event names, Beijing time, names, layout."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, REVIEWING, Api, form


def _recommended_and_verified(api: Api) -> int:
    api.clock.now = RECOMMENDING
    body = form(1, name="张三", experience="带货三年，单场GMV十万", notes="县人武部推荐")
    created = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=body, headers=ADMIN_HEADERS
    )
    assert created.status_code == 201, created.text
    api.clock.now = REVIEWING
    verified = api.client.post(
        f"/api/contestants/{created.json()['id']}/verify", json={"reason": "材料齐全"}, headers=ADMIN_HEADERS
    )
    assert verified.status_code == 200, verified.text
    return int(verified.headers["X-Log-Position"])


def _get(api: Api, path: str, **params: Any) -> Any:
    return api.client.get(
        f"/api/campaigns/{api.campaign_id}/{path}", params=params, headers=api.as_("auditor")
    )


def test_the_audit_csv_is_for_excel_on_chinese_windows(api: Api) -> None:
    position = _recommended_and_verified(api)

    answer = _get(api, "audit", format="csv", min_position=position)

    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    verified = next(r for r in rows if r["决定"] == "审核通过")
    assert verified["时间(北京时间)"] == "2021-06-20 15:00:00"
    assert (verified["对象类型"], verified["对象"], verified["理由"]) == ("选手", "张三", "材料齐全")
    assert verified["决定人角色"] == "组委会"
    launched = next(r for r in rows if r["决定"] == "赛事启动")
    assert launched["对象"] == "战友杯 2021"


def test_the_audit_workbook_has_chinese_headers_and_a_usable_layout(api: Api) -> None:
    position = _recommended_and_verified(api)

    answer = _get(api, "audit", format="xlsx", min_position=position)

    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["序号", "时间(北京时间)", "决定", "对象类型", "对象"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref is not None
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["J"].width == 40  # 理由
    names = {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "张三" in names
    assert not any(str(n).count("-") == 4 for n in names)  # no contestant UUIDs


def test_the_roster_workbook_keeps_experience_and_notes_and_is_laid_out(api: Api) -> None:
    position = _recommended_and_verified(api)

    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/roster.xlsx",
        params={"min_position": position},
        headers=ADMIN_HEADERS,
    )

    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[2])
    person = dict(zip(header, rows[3], strict=False))
    assert person["直播经验、亮点战绩、荣誉"] == "带货三年，单场GMV十万"
    assert person["备注"] == "县人武部推荐"
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref is not None
    assert sheet.auto_filter.ref.startswith("A3:")
    assert sheet.column_dimensions["H"].width == 40


def test_numbers_typed_into_experience_and_notes_are_masked_in_the_roster_workbook(api: Api) -> None:
    api.clock.now = RECOMMENDING
    body = form(1, name="张三", experience="电话13812345678", notes="身份证420102197003033640")
    created = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=body, headers=ADMIN_HEADERS
    )
    assert created.status_code == 201, created.text

    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/roster.xlsx",
        params={"min_position": created.headers["X-Log-Position"]},
        headers=api.as_("city_staff"),
    )

    assert answer.status_code == 200, answer.text
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    person = dict(zip(rows[2], rows[3], strict=False))
    assert person["直播经验、亮点战绩、荣誉"] == "电话138****5678"
    assert "197003033640" not in str(person["备注"])
    assert str(person["备注"]).startswith("身份证420102")
