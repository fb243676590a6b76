"""Names that show nothing or hide characters are refused on every way in: public form, API, import."""

from __future__ import annotations

import pytest

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form
from tests.form_files import as_csv, form_cells, person_row

UNSEEN_NAMES = {
    "a zero-width joiner": "\u200d",
    "a Hangul filler": "\u3164",
    "a blank Braille pattern": "\u2800",
    "combining marks only": "\u0301\u0302",
    "a zero-width space inside": "张\u200b三",
    "a byte-order mark in front": "\ufeff张三",
    "a line separator inside": "张\u2028三",
}


@pytest.mark.parametrize("name", UNSEEN_NAMES.values(), ids=UNSEEN_NAMES.keys())
def test_the_public_form_refuses_a_name_that_shows_nothing_or_hides_a_character(api: Api, name: str) -> None:
    api.open_self_registration()
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(1, group="veteran", name=name)
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == "name"
    error = answer.json()["errors"][0]
    assert error["field"] == "name"
    assert "invisible" in error["detail"] or "letter" in error["detail"], error
    in_chinese = api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations",
        json=form(1, group="veteran", name=name),
        headers={"Accept-Language": "zh-CN"},
    )
    assert "姓名" in in_chinese.json()["errors"][0]["detail"], in_chinese.text


def test_a_contact_with_a_paragraph_separator_is_refused_and_a_clean_one_found_by_search(api: Api) -> None:
    api.clock.now = RECOMMENDING
    path = f"/api/campaigns/{api.campaign_id}/contestants"
    refused = api.client.post(path, json={**form(1), "contact": "王\u2029科长"}, headers=ADMIN_HEADERS)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "contact"

    taken = api.client.post(path, json=form(2, name="张三丰"), headers=ADMIN_HEADERS)
    assert taken.status_code == 201, taken.text
    found = api.client.get(
        path, params={"q": "张三丰", "min_position": taken.headers["X-Log-Position"]}, headers=ADMIN_HEADERS
    )
    assert [c["id"] for c in found.json()["contestants"]] == [taken.json()["id"]]


def test_an_imported_row_with_an_unseen_name_is_refused_and_the_rest_imported(api: Api) -> None:
    rows = [person_row(1)]
    for n, name in enumerate(("张\u200b三", "\u3164", "\ufeff张三"), start=2):
        row = person_row(n)
        row[2] = name
        rows.append(row)
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/imports",
        files={"file": ("f.csv", as_csv(form_cells(rows)))},
        headers=ADMIN_HEADERS,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == {"created": 1, "unchanged": 0, "refused": 3}
    for row in answer.json()["rows"]:
        if row["outcome"] == "refused":
            assert (row["rule"], "name" in row["detail"]) == ("invalid_value", True), row
