"""POST /api/campaigns/{cid}/imports: the recommendation form uploaded over HTTP."""

from __future__ import annotations

import pytest

from api.messages_zh import field_message
from tests.api.helpers import RECOMMENDING, Api
from tests.form_files import as_csv, as_xlsx, form_cells, person_row


def upload(api: Api, who: str, content: bytes, filename: str, **fields: str) -> tuple[int, dict[str, object]]:
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/imports",
        files={"file": (filename, content)},
        data=fields,
        headers=api.as_(who),
    )
    body: dict[str, object] = answer.json()
    return answer.status_code, body


def test_a_form_is_imported_row_by_row_and_a_second_upload_creates_nothing(api: Api) -> None:
    content = as_xlsx(form_cells([person_row(1), person_row(2), person_row(3, "黄石市")]))

    status, first = upload(api, "city_staff", content, "武汉.xlsx")

    assert status == 200, first
    assert first["counts"] == {"created": 2, "unchanged": 0, "refused": 1}
    refused = [row for row in first["rows"] if row["outcome"] == "refused"]  # type: ignore[attr-defined]
    assert [(row["line"], row["rule"]) for row in refused] == [(7, "not_permitted")]  # another city's person
    assert refused[0]["message"] == "您的账号无权进行此操作"  # the clerk reads the rule in Chinese
    status, again = upload(api, "city_staff", content, "武汉.xlsx")
    assert status == 200
    assert again["counts"] == {"created": 0, "unchanged": 2, "refused": 1}


@pytest.mark.parametrize("who", ["judge", "auditor", "leader"])
def test_roles_that_cannot_recommend_are_refused_whole(api: Api, who: str) -> None:
    status, problem = upload(api, who, as_csv(form_cells([person_row(1)])), "f.csv")
    assert (status, problem["rule"]) == (403, "not_permitted")


def test_a_file_that_is_not_a_form_is_a_problem_naming_why(api: Api) -> None:
    status, problem = upload(api, "admin", b"PK not a workbook", "f.xlsx")
    assert (status, problem["rule"]) == (422, "form_unreadable")
    assert "not an .xlsx workbook" in str(problem["detail"])


def test_the_group_can_come_from_the_form_field(api: Api) -> None:
    content = as_csv(form_cells([person_row(1)], group=""))
    status, report = upload(api, "admin", content, "f.csv", group="veteran")
    assert (status, report["group"], report["counts"]) == (
        200,
        "veteran",
        {"created": 1, "unchanged": 0, "refused": 0},
    )


def test_a_name_cell_holding_a_formula_is_refused_naming_the_cell(api: Api) -> None:
    row = person_row(1)
    row[2] = '=HYPERLINK("http://example.invalid","学员1")'
    status, report = upload(api, "admin", as_xlsx(form_cells([row, person_row(2)])), "f.xlsx")
    assert status == 200, report
    assert report["counts"] == {"created": 1, "unchanged": 0, "refused": 1}
    refused = next(r for r in report["rows"] if r["outcome"] == "refused")  # type: ignore[attr-defined]
    assert (refused["line"], refused["rule"]) == (5, "invalid_value")
    assert "row 5, column 3 holds a formula" in refused["detail"]
    assert "1 to 50 characters" not in refused["detail"]
    field, _, detail = str(refused["detail"]).partition(": ")
    # the page reads it in Chinese by the catalogue's field details, as every bad field
    assert field_message(field, detail) == "该单元格是公式（没有计算结果），请直接填写姓名"
