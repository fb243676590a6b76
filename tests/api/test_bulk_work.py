"""Bulk work over HTTP: each item decided and recorded on its own, each reported."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from tests.api.helpers import (
    ADMIN_HEADERS,
    COMPETING,
    OTHER_CITY,
    REVIEWING,
    TRAINED,
    TRAINING,
    Api,
)
from tests.builders import id_number


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post(api: Api, path: str, **kwargs: Any) -> Any:
    return api.client.post(f"/api/campaigns/{api.campaign_id}/{path}", headers=ADMIN_HEADERS, **kwargs)


def test_a_list_is_verified_with_one_reason_each_decision_on_its_own(api: Api) -> None:
    ids = [api.recommend(seq) for seq in (1, 2, 3)]
    api.clock.now = REVIEWING
    api.step(ids[1], "verify", REVIEWING)  # already verified: its row is refused, the others go through

    answer = post(
        api, "bulk/verify", json={"contestants": ids, "reason": "材料齐全", "evidence": "附件2 原件"}
    )

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"done": 2, "refused": 1}
    assert [(r["line"], r["outcome"], r["rule"]) for r in body["rows"]] == [
        (1, "done", None),
        (2, "refused", "invalid_transition"),
        (3, "done", None),
    ]
    assert [r["message"] for r in body["rows"]] == [None, "该选手当前状态下不能进行此操作", None]
    history = api.client.get(f"/api/contestants/{ids[0]}/history", headers=ADMIN_HEADERS).json()
    assert (history[-1]["type"], history[-1]["reason"], history[-1]["evidence"]) == (
        "Verified",
        "材料齐全",
        "附件2 原件",
    )


def test_an_id_given_twice_is_reported_by_that_id(api: Api) -> None:
    first, second = api.recommend(1), api.recommend(2)
    api.clock.now = REVIEWING
    answer = post(api, "bulk/verify", json={"contestants": [first, second, first]})

    assert answer.status_code == 200, answer.text
    assert [(r["line"], r["outcome"], r["contestant_id"]) for r in answer.json()["rows"]] == [
        (1, "done", first),
        (2, "done", second),
        (3, "refused", first),  # verified by line 1
    ]


def test_a_bulk_rejection_needs_its_one_reason(api: Api) -> None:
    ids = [api.recommend(seq) for seq in (1, 2)]
    api.clock.now = REVIEWING
    refused = post(api, "bulk/reject", json={"contestants": ids})
    assert (refused.status_code, refused.json()["rule"]) == (422, "reason_required")
    done = post(api, "bulk/reject", json={"contestants": ids, "reason": "未提供退役证"})
    assert done.json()["counts"] == {"done": 2, "refused": 0}


def test_training_accounts_and_scores_come_from_uploaded_sheets_and_make_a_ranking(api: Api) -> None:
    groups = {1: "trainee", 2: "trainee", 3: "veteran", 4: "trainee"}
    people = {seq: api.recommend(seq, group=group) for seq, group in groups.items()}
    other_city = api.recommend(5, OTHER_CITY)
    api.clock.now = REVIEWING
    post(api, "bulk/verify", json={"contestants": [*people.values(), other_city]})

    api.clock.now = TRAINING
    accounts = xlsx(
        [
            ["选手名单"],
            ["身份证号", "姓名", "培训账号"],
            *[[id_number(seq), f"选手{seq}", f"hb-{seq:04d}"] for seq in (1, 2, 3, 4)],
            [id_number(99), "无此人", "hb-0099"],
        ]
    )
    assigned = post(api, "training-accounts", files={"file": ("培训账号.xlsx", accounts)})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["counts"] == {"done": 4, "refused": 1}
    assert assigned.json()["rows"][-1]["line"] == 7
    assert assigned.json()["rows"][-1]["rule"] == "not_found"
    for seq in (1, 2, 3, 4):
        api.step(people[seq], "trained", TRAINED)

    api.clock.now = COMPETING
    scores = xlsx(
        [
            ["选手编号", "短视频制作", "个人直播账号运营", "直播带货"],
            [people[1], 80, 70, 90],
            [people[2], 90, 90, 90],
            [people[3], 99, 99, 99],
            [people[4], 80, 90, 70],
            [people[2], "优", 1, 1],
        ]
    )
    scored = post(api, "scores", files={"file": ("评分表.xlsx", scores)})
    assert scored.status_code == 200, scored.text
    assert scored.json()["counts"] == {"done": 4, "refused": 1}
    assert scored.json()["rows"][-1]["rule"] == "invalid_value"

    position = api.client.get("/readyz").json()["last_notification_id"]
    ranked = api.client.get(
        f"/api/campaigns/{api.campaign_id}/rankings",
        params={"min_position": position, "city": "武汉"},
        headers=api.as_("city_staff"),
    )
    assert ranked.status_code == 200, ranked.text
    tables = ranked.json()["rankings"]
    assert [(t["group"], t["group_title"]) for t in tables] == [
        ("trainee", "全媒体运营师学员组"),
        ("veteran", "退役军人组"),
    ]
    assert [(e["rank"], e["name"], e["total"]) for e in tables[0]["entries"]] == [
        (1, "选手2", 270.0),
        (2, "选手1", 240.0),
        (2, "选手4", 240.0),
    ]
    first = api.client.get(f"/api/contestants/{people[2]}", headers=ADMIN_HEADERS).json()
    assert tables[0]["entries"][0]["version"] == first["version"]  # a pick from the ranking can send If-Match
    veterans = api.client.get(
        f"/api/campaigns/{api.campaign_id}/rankings", params={"group": "退役军人组"}, headers=ADMIN_HEADERS
    ).json()["rankings"]
    assert [e["name"] for t in veterans for e in t["entries"]] == ["选手3"]
