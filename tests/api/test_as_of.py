"""The campaign, the roster and the quotas as they stood at an instant or on a day, from the log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from projections import Views
from tests.api.helpers import ADMIN_HEADERS, LAUNCH, OTHER_CITY, OWN_CITY, REVIEWING, Api, form
from tests.builders import id_number, mobile, shanghai

EVENING = shanghai(2021, 6, 10, 23, 59, 59)  # the last second of 10 June, Beijing time
MIDNIGHT = shanghai(2021, 6, 11)  # the first instant of 11 June


def get(api: Api, who: str, path: str, **params: Any) -> Any:
    suffix = f"/{path}" if path else ""
    return api.client.get(f"/api/campaigns/{api.campaign_id}{suffix}", params=params, headers=api.as_(who))


def recommend_at(api: Api, seq: int, at: datetime, city: str = OWN_CITY, group: str = "trainee") -> str:
    api.clock.now = at
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=form(seq, city, group), headers=ADMIN_HEADERS
    )
    assert answer.status_code == 201, answer.text
    contestant_id: str = answer.json()["id"]
    return contestant_id


def step_at(api: Api, contestant_id: str, action: str, at: datetime, **body: Any) -> None:
    api.clock.now = at
    answer = api.client.post(f"/api/contestants/{contestant_id}/{action}", json=body, headers=ADMIN_HEADERS)
    assert answer.status_code == 200, answer.text


def names(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(row["name"] for row in answer.json()["contestants"])


def wuhan_trainees(answer: Any) -> tuple[int, int]:
    assert answer.status_code == 200, answer.text
    row = next(q for q in answer.json()["quotas"] if q["city"] == OWN_CITY and q["group"] == "trainee")
    return row["recommended"], row["verified"]


def refusal(answer: Any) -> tuple[int, str, list[str]]:
    body = answer.json()
    return answer.status_code, body["rule"], [e["field"] for e in body.get("errors", [])]


def test_a_day_is_the_end_of_that_day_in_shanghai(api: Api) -> None:
    late = recommend_at(api, 1, EVENING)
    early_next = recommend_at(api, 2, MIDNIGHT)
    api.clock.now = shanghai(2021, 6, 12)

    assert names(get(api, "admin", "contestants", as_of="2021-06-10")) == ["选手1"]
    assert names(get(api, "admin", "contestants", as_of="2021-06-11")) == ["选手1", "选手2"]
    assert names(get(api, "admin", "contestants", as_of="2021-06-10T23:59:59+08:00")) == ["选手1"]
    assert names(get(api, "admin", "contestants", as_of="2021-06-10T23:59:58.999999+08:00")) == []
    assert names(get(api, "admin", "contestants", as_of="2021-06-10T16:00:00Z")) == ["选手1", "选手2"]
    assert wuhan_trainees(get(api, "leader", "quotas", as_of="2021-06-10")) == (1, 0)
    assert wuhan_trainees(get(api, "leader", "quotas", as_of="2021-06-11")) == (2, 0)

    contestants = "/api/contestants"
    on_the_day = api.client.get(
        f"{contestants}/{late}", params={"as_of": "2021-06-10"}, headers=ADMIN_HEADERS
    )
    assert (on_the_day.status_code, on_the_day.json()["status"]) == (200, "nominated")
    not_yet = api.client.get(
        f"{contestants}/{early_next}", params={"as_of": "2021-06-10"}, headers=ADMIN_HEADERS
    )
    assert not_yet.status_code == 404
    history = api.client.get(
        f"{contestants}/{late}/history", params={"as_of": "2021-06-10"}, headers=ADMIN_HEADERS
    )
    assert [e["type"] for e in history.json()] == ["Nominated"]


def test_the_roster_and_quotas_follow_the_log_at_each_instant(api: Api) -> None:
    first = recommend_at(api, 1, shanghai(2021, 6, 10, 10))
    second = recommend_at(api, 2, shanghai(2021, 6, 11, 10))
    recommend_at(api, 3, shanghai(2021, 6, 11, 11), city=OTHER_CITY)
    step_at(api, first, "verify", REVIEWING)
    step_at(api, second, "withdraw", shanghai(2021, 6, 21), reason="本人申请")
    api.clock.now = shanghai(2021, 6, 30)

    def statuses(as_of: str, who: str = "admin") -> dict[str, str]:
        answer = get(api, who, "contestants", as_of=as_of)
        assert answer.status_code == 200, answer.text
        return {row["name"]: row["status"] for row in answer.json()["contestants"]}

    assert statuses("2021-06-10") == {"选手1": "nominated"}
    assert statuses("2021-06-20") == {"选手1": "verified", "选手2": "nominated", "选手3": "nominated"}
    assert statuses("2021-06-21") == {"选手1": "verified", "选手2": "withdrawn", "选手3": "nominated"}
    assert statuses("2021-06-20", "city_staff") == {"选手1": "verified", "选手2": "nominated"}
    assert wuhan_trainees(get(api, "admin", "quotas", as_of="2021-06-20")) == (2, 1)
    assert wuhan_trainees(get(api, "admin", "quotas", as_of="2021-06-21")) == (1, 1)

    answer = get(api, "admin", "contestants", as_of="2021-06-20", status="nominated", page_size=1)
    assert (answer.json()["total"], len(answer.json()["contestants"])) == (2, 1)
    assert int(answer.headers["X-As-Of-Position"]) == int(
        api.client.get("/readyz").json()["last_notification_id"]
    )
    masked = get(api, "admin", "contestants", as_of="2021-06-20")
    assert id_number(1) not in masked.text
    assert mobile(1) not in masked.text
    assert id_number(1)[:6] + "********" + id_number(1)[-4:] in masked.text


def test_as_of_reads_the_log_not_the_live_views(api: Api) -> None:
    recommend_at(api, 1, shanghai(2021, 6, 10, 10))
    api.clock.now = shanghai(2021, 6, 12)
    views: Views = api.client.app.state.views  # type: ignore[attr-defined]
    position = int(api.client.get("/readyz").json()["last_notification_id"])
    assert get(api, "admin", "contestants", min_position=position).json()["total"] == 1
    with views.db.transaction() as tx:  # the live views lose their rows; the log keeps its events
        tx.execute(f"DELETE FROM {views.roster.t['roster']}")
        tx.execute(f"DELETE FROM {views.quotas.t['quota_places']}")
    # behind the views' positions' back: no answer kept at the old position can know of it
    api.client.app.state.read_cache.clear()  # type: ignore[attr-defined]
    assert get(api, "admin", "contestants").json()["total"] == 0
    assert names(get(api, "admin", "contestants", as_of="2021-06-11")) == ["选手1"]
    assert wuhan_trainees(get(api, "admin", "quotas", as_of="2021-06-11")) == (1, 0)
    workbook = get(api, "admin", "roster.xlsx", as_of="2021-06-11")
    assert workbook.status_code == 200
    assert "X-As-Of-Position" in workbook.headers


def test_a_place_taken_before_its_pool_was_opened_counts_then(api: Api) -> None:
    """Two bureaus' nominations saved out of date order: the later-dated one opened the pool."""
    recommend_at(api, 1, shanghai(2021, 6, 12, 10))
    recommend_at(api, 2, shanghai(2021, 6, 11, 10))
    api.clock.now = shanghai(2021, 6, 13)
    assert wuhan_trainees(get(api, "admin", "quotas", as_of="2021-06-11")) == (1, 0)
    assert names(get(api, "admin", "contestants", as_of="2021-06-11")) == ["选手2"]
    assert wuhan_trainees(get(api, "admin", "quotas", as_of="2021-06-12")) == (2, 0)


def test_the_campaign_as_it_stood(api: Api) -> None:
    api.clock.now = shanghai(2021, 5, 21, 10)
    amended = api.client.post(
        f"/api/campaigns/{api.campaign_id}/timeline",
        json={"timeline": {"finals": {"opens": "2021-09-07T00:00:00+08:00"}}, "reason": "场地调整"},
        headers=ADMIN_HEADERS,
    )
    assert amended.status_code == 200, amended.text
    api.clock.now = shanghai(2021, 5, 22, 10)
    opened = api.client.post(
        f"/api/campaigns/{api.campaign_id}/phases/publicity/open",
        json={"reason": "提前宣传"},
        headers=ADMIN_HEADERS,
    )
    assert opened.status_code == 200, opened.text
    api.clock.now = shanghai(2021, 6, 8)

    at_launch = get(api, "judge", "", as_of=LAUNCH.isoformat()).json()
    assert at_launch["rule_version"] == 1
    assert at_launch["timeline"]["finals"]["opens"] == "2021-09-06T00:00:00+08:00"
    assert at_launch["timeline"]["publicity"] == {
        "opens": "2021-05-24T00:00:00+08:00",
        "closes": "2021-06-07T00:00:00+08:00",
        "status": "pending",
        "recorded": "pending",
    }
    amended_day = get(api, "judge", "", as_of="2021-05-21").json()
    assert (amended_day["rule_version"], amended_day["timeline"]["finals"]["opens"]) == (
        2,
        "2021-09-07T00:00:00+08:00",
    )
    assert amended_day["timeline"]["publicity"]["recorded"] == "pending"
    opened_day = get(api, "judge", "", as_of="2021-05-22").json()
    assert opened_day["rule_version"] == 3
    assert opened_day["timeline"]["publicity"]["opens"] == "2021-05-22T10:00:00+08:00"
    assert opened_day["timeline"]["publicity"]["recorded"] == "open"
    assert opened_day["timeline"]["registration"]["status"] == "pending"  # by the dates, on 22 May
    assert get(api, "judge", "").json()["timeline"]["registration"]["status"] == "open"  # now: 8 June


@pytest.mark.parametrize("path", ["", "contestants", "quotas", "roster.xlsx"])
def test_an_instant_the_log_cannot_answer_for_is_refused_naming_the_field(api: Api, path: str) -> None:
    api.clock.now = shanghai(2021, 6, 8, 12)
    assert refusal(get(api, "admin", path, as_of="2021-06-08T12:00:01+08:00")) == (
        422,
        "invalid_value",
        ["as_of"],
    )
    assert refusal(get(api, "admin", path, as_of="2021-06-09")) == (
        422,
        "invalid_value",
        ["as_of"],
    )  # tomorrow
    before = get(api, "admin", path, as_of="2021-05-20T08:59:59+08:00")  # launched at 09:00
    assert refusal(before) == (422, "invalid_value", ["as_of"])
    assert "before the campaign was launched" in before.json()["detail"]
    chinese = api.client.get(
        f"/api/campaigns/{api.campaign_id}{'/' + path if path else ''}",
        params={"as_of": "2021-05-19"},
        headers={**ADMIN_HEADERS, "Accept-Language": "zh-CN"},
    )
    assert chinese.json()["errors"][0]["detail"] == "查询时点早于赛事启动"
    assert refusal(get(api, "admin", path, as_of="9999-12-31")) == (422, "invalid_value", ["as_of"])
    assert refusal(get(api, "admin", path, as_of="2021-06-08T12:00:00")) == (422, "invalid_value", ["as_of"])
    assert get(api, "admin", path, as_of="2021-05-20T09:00:00+08:00").status_code == 200


@pytest.mark.parametrize("path", ["", "contestants", "quotas", "roster.xlsx"])
def test_today_is_read_up_to_now_and_tomorrow_is_refused(api: Api, path: str) -> None:
    for now, today, tomorrow in [
        (EVENING, "2021-06-10", "2021-06-11"),  # the last second of the day
        (MIDNIGHT, "2021-06-11", "2021-06-12"),  # the first instant of the next
    ]:
        api.clock.now = now
        assert get(api, "admin", path, as_of=today).status_code == 200
        assert refusal(get(api, "admin", path, as_of=tomorrow)) == (422, "invalid_value", ["as_of"])
    assert refusal(get(api, "admin", path, as_of="2021-06-11T00:00:01+08:00")) == (
        422,
        "invalid_value",
        ["as_of"],
    )  # an instant written out is not capped


def test_a_reading_of_today_stands_as_of_now(api: Api) -> None:
    late = recommend_at(api, 1, EVENING)
    api.clock.now = EVENING
    campaign = get(api, "judge", "", as_of="2021-06-10").json()
    assert (
        campaign["timeline"]["registration"]["status"]
        == get(api, "judge", "").json()["timeline"]["registration"]["status"]
    )
    assert names(get(api, "admin", "contestants", as_of="2021-06-10")) == ["选手1"]
    contestant = api.client.get(
        f"/api/contestants/{late}", params={"as_of": "2021-06-10"}, headers=ADMIN_HEADERS
    )
    assert contestant.status_code == 200, contestant.text
    history = api.client.get(
        f"/api/contestants/{late}/history", params={"as_of": "2021-06-10"}, headers=ADMIN_HEADERS
    )
    assert [e["type"] for e in history.json()] == ["Nominated"]
    diff = get(api, "admin", "contestants/diff", **{"from": "2021-06-01", "to": "2021-06-10"})
    assert diff.status_code == 200, diff.text
    assert (diff.json()["to"], [c["id"] for c in diff.json()["entered"]]) == (
        "2021-06-10T23:59:59+08:00",
        [late],
    )
    both_today = get(api, "admin", "contestants/diff", **{"from": "2021-06-10", "to": "2021-06-10"})
    assert (both_today.status_code, both_today.json()["from"]) == (200, "2021-06-10T23:59:59+08:00")
    tomorrow = get(api, "admin", "contestants/diff", **{"from": "2021-06-01", "to": "2021-06-11"})
    assert refusal(tomorrow) == (422, "invalid_value", ["to"])
    api.clock.now = MIDNIGHT
    next_day = get(api, "admin", "contestants/diff", **{"from": "2021-06-10", "to": "2021-06-11"}).json()
    assert (next_day["from"], next_day["to"]) == (
        "2021-06-10T23:59:59.999999+08:00",
        "2021-06-11T00:00:00+08:00",
    )


def test_as_of_reads_keep_the_live_access_rules(api: Api) -> None:
    recommend_at(api, 1, shanghai(2021, 6, 10, 10))
    recommend_at(api, 2, shanghai(2021, 6, 10, 11), city=OTHER_CITY)
    api.clock.now = shanghai(2021, 6, 12)
    day = {"as_of": "2021-06-11"}
    assert names(get(api, "other_city_staff", "contestants", **day)) == ["选手2"]
    assert get(api, "other_city_staff", "contestants", city=OWN_CITY, **day).status_code == 403
    assert get(api, "leader", "contestants", **day).json()["rule"] == "not_permitted"
    leader_quotas = get(api, "leader", "quotas", **day)
    assert leader_quotas.status_code == 200
    assert "选手" not in leader_quotas.text
    assert get(api, "leader", "contestants/diff", **{"from": "2021-06-10"}).status_code == 403
    assert get(api, "judge", "quotas", **day).status_code == 200


def test_the_roster_between_two_instants(api: Api) -> None:
    verified = recommend_at(api, 1, shanghai(2021, 6, 10, 10))
    withdrawn = recommend_at(api, 2, shanghai(2021, 6, 10, 11))
    recommend_at(api, 3, shanghai(2021, 6, 10, 12))  # no change
    recommend_at(api, 4, shanghai(2021, 6, 10, 13), city=OTHER_CITY)  # no change, another city
    entered = recommend_at(api, 5, shanghai(2021, 6, 15, 10))
    step_at(api, verified, "verify", REVIEWING)
    step_at(api, withdrawn, "withdraw", REVIEWING, reason="本人申请")
    recommend_at(api, 6, shanghai(2021, 6, 25))  # after the range
    api.clock.now = shanghai(2021, 6, 30)

    answer = get(api, "admin", "contestants/diff", **{"from": "2021-06-10", "to": "2021-06-20"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"]) == (
        "2021-06-10T23:59:59.999999+08:00",
        "2021-06-20T23:59:59.999999+08:00",
    )

    def moves(kind: str) -> list[tuple[str, str | None, str]]:
        return [(c["id"], c["status_from"], c["status_to"]) for c in body[kind]]

    assert moves("entered") == [(entered, None, "nominated")]
    assert moves("left") == [(withdrawn, "nominated", "withdrawn")]
    assert moves("changed") == [(verified, "nominated", "verified")]
    assert body["unchanged"] == 2
    assert id_number(5) not in answer.text
    assert mobile(5) not in answer.text
    assert body["entered"][0]["id_number"] == id_number(5)[:6] + "********" + id_number(5)[-4:]

    own_city = get(api, "other_city_staff", "contestants/diff", **{"from": "2021-06-10", "to": "2021-06-20"})
    assert (own_city.json()["entered"], own_city.json()["unchanged"]) == ([], 1)
    until_now = get(api, "admin", "contestants/diff", **{"from": "2021-06-20"}).json()  # to: now
    assert [c["name"] for c in until_now["entered"]] == ["选手6"]
    backwards = get(api, "admin", "contestants/diff", **{"from": "2021-06-20", "to": "2021-06-10"})
    assert refusal(backwards) == (422, "invalid_value", ["to"])
    early = get(api, "admin", "contestants/diff", **{"from": "2021-05-01", "to": "2021-06-10"})
    assert refusal(early) == (422, "invalid_value", ["from"])
    ahead = get(api, "admin", "contestants/diff", **{"from": "2021-06-10", "to": "2021-07-01"})
    assert refusal(ahead) == (422, "invalid_value", ["to"])


def test_the_audit_trail_takes_days_for_its_range(api: Api) -> None:
    recommend_at(api, 1, EVENING)
    recommend_at(api, 2, MIDNIGHT)
    position = int(api.client.get("/readyz").json()["last_notification_id"])
    get(api, "auditor", "audit", min_position=position)

    def nominated(**params: str) -> int:
        answer = get(api, "auditor", "audit", type="Nominated", **params)
        assert answer.status_code == 200, answer.text
        return len(answer.json()["entries"])

    assert nominated(to="2021-06-10") == 1  # through the end of 10 June
    assert nominated(**{"from": "2021-06-11"}) == 1  # from 00:00 on 11 June
    assert nominated(**{"from": "2021-06-10", "to": "2021-06-11"}) == 2
    assert nominated(to="2021-06-10T23:59:59") == 0  # no zone: Beijing time; `to` is exclusive
    assert nominated(to="2021-06-11T00:00:00") == 1
