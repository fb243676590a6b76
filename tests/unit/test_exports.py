"""Typed text in exports stays text: no formula runs when a file is opened."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

from openpyxl import load_workbook

from api.workbooks import roster_workbook
from projections.audit import AuditEntry, write_csv, write_xlsx
from projections.roster import RosterRow

FORMULA = '=HYPERLINK("http://example.invalid","x")'
ENTRY = AuditEntry(
    notification_id=7,
    at="2021-06-20T07:00:00.000000+00:00",
    event_type="Verified",
    aggregate_type="Contestant",
    aggregate_id=str(uuid4()),
    version=2,
    campaign_id=str(uuid4()),
    city="武汉市",
    actor_user="admin",
    actor_role="admin",
    actor_city=None,
    reason="=1+1",
    evidence="@SUM(A1)",
    rule_version=1,
)


def test_audit_csv_quotes_what_a_spreadsheet_would_run() -> None:
    out = io.StringIO()
    write_csv([ENTRY, replace(ENTRY, reason="-材料齐全", evidence="名册第 3 页")], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["reason"], r["evidence"]) for r in rows] == [
        ("'=1+1", "'@SUM(A1)"),
        ("'-材料齐全", "名册第 3 页"),
    ]
    assert rows[0]["version"] == "2"
    assert rows[0]["actor_city"] == ""


def test_audit_xlsx_keeps_text_as_text(tmp_path: Path) -> None:
    write_xlsx([ENTRY], tmp_path / "audit.xlsx")
    sheet = load_workbook(tmp_path / "audit.xlsx")["audit"]
    header = [c.value for c in sheet[1]]
    reason = sheet.cell(row=2, column=header.index("reason") + 1)
    assert (reason.value, reason.data_type) == ("=1+1", "s")
    assert sheet.cell(row=2, column=header.index("version") + 1).value == 2


def test_roster_workbook_keeps_a_formula_like_name_as_text() -> None:
    row = RosterRow(
        contestant_id=uuid4(),
        campaign_id=uuid4(),
        city="武汉市",
        group="trainee",
        channel="recommended",
        name=FORMULA,
        id_number="420102********1234",
        mobile="138****5678",
        platform="douyin",
        account="=cmd",
        followers=10,
        status="nominated",
        training_account=None,
        results=None,
        team_role=None,
        award=None,
        nominated_at="",
        changed_at="",
        version=1,
    )
    sheet = load_workbook(io.BytesIO(roster_workbook([row], "测试"))).active
    assert sheet is not None
    cells = {c.value: c.data_type for c in sheet[4]}
    assert cells[FORMULA] == "s"
    assert all(kind != "f" for kind in cells.values())
