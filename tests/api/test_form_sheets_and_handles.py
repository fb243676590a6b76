"""Forms as bureaus send them: every sheet read or reported; one account per contestant, a real id."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form
from tests.api.test_imports import upload
from tests.form_files import form_cells, person_row


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for row in cells:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_every_sheet_of_a_workbook_is_read_or_reported(api: Api) -> None:
    trainees = form_cells([person_row(1)], group="全媒体运营师学员组")
    veterans = form_cells([person_row(2)], group="")  # the group is the sheet's name
    content = workbook(
        {"学员组": trainees, "退役军人组": veterans, "说明": [["填表说明：每人一行"]], "空": []}
    )

    status, body = upload(api, "city_staff", content, "武汉.xlsx")

    assert status == 200, body
    assert body["counts"] == {"created": 2, "unchanged": 0, "refused": 0}
    assert [(r["sheet"], r["outcome"]) for r in body["rows"]] == [  # type: ignore[attr-defined]
        ("学员组", "created"),
        ("退役军人组", "created"),
    ]
    sheets = {s["name"]: s for s in body["sheets"]}  # type: ignore[attr-defined]
    assert (sheets["学员组"]["outcome"], sheets["学员组"]["group"]) == ("imported", "trainee")
    assert (sheets["退役军人组"]["outcome"], sheets["退役军人组"]["group"]) == ("imported", "veteran")
    assert sheets["说明"]["outcome"] == "skipped"
    assert "no header row" in sheets["说明"]["detail"]
    assert (sheets["空"]["outcome"], sheets["空"]["detail"]) == ("skipped", "the sheet is empty")


def test_a_cell_with_two_accounts_is_refused_on_its_row(api: Api) -> None:
    two = person_row(1)
    two[5] = "抖音: a 快手: b"

    status, body = upload(api, "city_staff", workbook({"名单": form_cells([two, person_row(2)])}), "f.xlsx")

    assert status == 200, body
    rows = body["rows"]
    outcomes = [(r["outcome"], r["rule"]) for r in rows]  # type: ignore[attr-defined]
    assert outcomes == [("refused", "invalid_value"), ("created", None)]
    assert "one account per contestant" in rows[0]["detail"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("handle", "says"),
    [
        ("a 快手: b", "without spaces"),
        ("zhang:san", "without a colon"),
        ("<script>alert(1)</script>", "has only letters"),
        ("https://v.douyin.com/abc", "web address"),
        ("www.kuaishou.com", "web address"),
        ("张三的直播间", "has only letters"),
        ("x" * 31, "2 to 30 characters"),
    ],
)
def test_the_api_refuses_handles_that_break_the_platforms_rules(api: Api, handle: str, says: str) -> None:
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=form(1, account=handle), headers=ADMIN_HEADERS
    )
    assert (answer.status_code, answer.json()["rule"]) == (422, "invalid_value")
    assert says in answer.json()["detail"]
    assert "account" in answer.json()["detail"]
