"""The views over HTTP: roster, roster.xlsx, quotas, funnel, teams, audit; read-your-writes."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.api.helpers import ADMIN_HEADERS, OTHER_CITY, OWN_CITY, PICKING, REVIEWING, Api
from tests.builders import id_number, mobile


def get(api: Api, who: str, path: str, **params: Any) -> Any:
    return api.client.get(f"/api/campaigns/{api.campaign_id}/{path}", params=params, headers=api.as_(who))


def recommended(api: Api) -> tuple[str, int]:
    """Three people of Wuhan and one of Huangshi; the log position after the last write."""
    for seq, city in ((1, OWN_CITY), (2, OWN_CITY), (3, OWN_CITY), (4, OTHER_CITY)):
        api.recommend(seq, city)
    api.clock.now = REVIEWING
    answer = api.client.post(f"/api/contestants/{api.recommend(5)}/verify", json={}, headers=ADMIN_HEADERS)
    assert answer.status_code == 200, answer.text
    return answer.json()["id"], int(answer.headers["X-Log-Position"])


def test_the_roster_waits_for_a_write_and_shows_masked_numbers(api: Api) -> None:
    verified, position = recommended(api)

    answer = get(api, "admin", "contestants", min_position=position, sort="name")

    assert answer.status_code == 200, answer.text
    assert int(answer.headers["X-View-Position"]) >= position
    assert answer.headers["X-View-Lag"] == "0"
    body = answer.json()
    assert body["total"] == 5
    by_id = {row["id"]: row for row in body["contestants"]}
    assert by_id[verified]["status"] == "verified"
    text = answer.text
    assert id_number(1) not in text
    assert mobile(1) not in text
    assert by_id[verified]["id_number"] == id_number(5)[:6] + "********" + id_number(5)[-4:]


def test_city_staff_read_their_own_city_only_and_leaders_no_roster(api: Api) -> None:
    _, position = recommended(api)
    own = get(api, "city_staff", "contestants", min_position=position)
    assert own.status_code == 200
    assert {row["city"] for row in own.json()["contestants"]} == {OWN_CITY}
    assert own.json()["total"] == 4
    assert get(api, "city_staff", "contestants", city=OTHER_CITY).status_code == 403
    assert get(api, "leader", "contestants").json()["rule"] == "not_permitted"


def test_roster_filters_search_and_pages(api: Api) -> None:
    _, position = recommended(api)
    page_one = get(api, "admin", "contestants", min_position=position, page_size=2, page=1).json()
    page_two = get(api, "admin", "contestants", page_size=2, page=2).json()
    page_three = get(api, "admin", "contestants", page_size=2, page=3).json()
    ids = [r["id"] for p in (page_one, page_two, page_three) for r in p["contestants"]]
    assert len(ids) == len(set(ids)) == 5
    assert get(api, "admin", "contestants", status="verified").json()["total"] == 1
    assert get(api, "admin", "contestants", city=OTHER_CITY).json()["total"] == 1
    assert get(api, "admin", "contestants", q="STREAMER2").json()["total"] == 1  # accounts: any case


def test_the_roster_workbook_is_laid_out_like_the_form_and_masked(api: Api) -> None:
    _, position = recommended(api)
    get(api, "admin", "contestants", min_position=position)
    answer = get(api, "city_staff", "roster.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2][:5] == ("序号", "所在市(州)", "姓名", "身份证号", "手机号")
    people = rows[3:]
    assert len(people) == 4
    assert all(str(row[3]).count("*") == 8 and str(row[4]).count("*") == 4 for row in people)
    assert sorted(str(row[10]) for row in people) == ["审核通过", "已报名", "已报名", "已报名"]


def test_quotas_agree_with_the_domain_and_leaders_may_read_them(api: Api) -> None:
    _, position = recommended(api)
    answer = get(api, "leader", "quotas", min_position=position)
    assert answer.status_code == 200, answer.text
    wuhan = next(q for q in answer.json()["quotas"] if q["city"] == OWN_CITY and q["group"] == "trainee")
    assert (wuhan["quota"], wuhan["recommended"], wuhan["verified"], wuhan["remaining"]) == (222, 4, 1, 218)
    trainees = next(g for g in answer.json()["groups"] if g["group"] == "trainee")
    assert (trainees["cap"], trainees["active"]) == (1000, 5)


def test_the_funnel_counts_stages(api: Api) -> None:
    _, position = recommended(api)
    body = get(api, "leader", "funnel", min_position=position).json()
    wuhan = next(r for r in body["rows"] if r["city"] == OWN_CITY)
    assert (wuhan["reached"]["nominated"], wuhan["reached"]["verified"]) == (4, 1)
    assert body["trainee_share"] is None  # no finalists yet


def test_teams_show_names_except_to_leadership(api: Api) -> None:
    contestant = api.recommend(1)
    for action, at, body in (
        ("verify", REVIEWING, {}),
        ("training-account", PICKING.replace(month=7, day=10), {"training_account": "t-1"}),
        ("trained", PICKING.replace(month=7, day=18), {}),
        (
            "results",
            PICKING.replace(month=8, day=20),
            {"scores": {"short_video": 80, "account_operation": 80, "livestream_selling": 80}},
        ),
        ("advance", PICKING, {"role": "streamer"}),
    ):
        api.step(contestant, action, at, body)
    position = int(api.client.get("/readyz").json()["last_notification_id"])
    admin_view = get(api, "admin", "teams", min_position=position).json()["teams"]
    leader_view = get(api, "leader", "teams").json()["teams"]
    assert [(t["city"], [s["name"] for s in t["streamers"]], t["complete"]) for t in admin_view] == [
        (OWN_CITY, ["选手1"], False)
    ]
    assert [s["name"] for s in leader_view[0]["streamers"]] == [None]


@pytest.mark.parametrize("who", ["city_staff", "judge", "leader"])
def test_only_organisers_and_auditors_read_the_audit_trail(api: Api, who: str) -> None:
    assert get(api, who, "audit").status_code == 403


def test_the_audit_trail_filters_and_exports(api: Api) -> None:
    _, position = recommended(api)
    verified = get(api, "auditor", "audit", min_position=position, type="Verified").json()["entries"]
    assert [(e["event_type"], e["actor_user"], e["actor_role"]) for e in verified] == [
        ("Verified", "bootstrap-admin", "admin")
    ]
    everything = get(api, "auditor", "audit").json()["entries"]
    assert {e["event_type"] for e in everything} >= {"CampaignLaunched", "Nominated", "Verified"}
    exported = get(api, "auditor", "audit", format="csv", type="Nominated")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 5
    assert {r["决定"] for r in rows} == {"报名"}
    workbook = get(api, "admin", "audit", format="xlsx")
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert sheet.max_row == len(everything) + 1


def test_the_audit_trail_pages_by_a_chosen_size_without_overlap(api: Api) -> None:
    _, position = recommended(api)
    everything = get(api, "auditor", "audit", min_position=position).json()["entries"]
    pages: list[list[int]] = []
    after = 0
    while True:
        page = get(api, "auditor", "audit", limit=2, after=after).json()
        pages.append([e["notification_id"] for e in page["entries"]])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert all(len(p) == 2 for p in pages[:-1])
    assert [n for p in pages for n in p] == [e["notification_id"] for e in everything]
    assert get(api, "auditor", "audit", limit=0).status_code == 422


def test_a_city_appoints_its_own_team_leader_only(api: Api) -> None:
    url = f"/api/campaigns/{api.campaign_id}/teams/武汉/leader"
    body = {"name": "王领队", "staff_user": "wuhan-1"}
    api.clock.now = PICKING
    assert api.client.post(url, json=body, headers=api.as_("other_city_staff")).status_code == 403
    assert api.client.post(url, json=body, headers=api.as_("judge")).status_code == 403
    answer = api.client.post(url, json=body, headers=api.as_("city_staff"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"city": OWN_CITY, "leader": "王领队", "staff_user": "wuhan-1"}
    position = int(answer.headers["X-Log-Position"])
    teams = get(api, "admin", "teams", min_position=position).json()["teams"]
    assert [(t["city"], t["leader"]) for t in teams] == [(OWN_CITY, "王领队")]
    unknown = api.client.post(
        f"/api/campaigns/{api.campaign_id}/teams/火星/leader", json=body, headers=ADMIN_HEADERS
    )
    assert (unknown.status_code, unknown.json()["rule"]) == (422, "invalid_value")


def test_a_position_past_the_log_is_refused_rather_than_answered_as_current(api: Api) -> None:
    _, position = recommended(api)
    answer = get(api, "admin", "contestants", min_position=position + 1)
    assert answer.status_code == 422
    assert answer.json()["rule"] == "position_ahead_of_log"
    assert f"past the log's head ({position})" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params", "rule"),
    [
        ("contestants", {"status": "bogus"}, "invalid_value"),
        ("contestants", {"city": "北京市"}, "invalid_value"),
        ("roster.xlsx", {"city": "北京市"}, "invalid_value"),
        ("audit", {"type": "Bogus"}, "invalid_value"),
        ("audit", {"city": "北京市"}, "invalid_value"),
        ("audit", {"from": "2021-07-01T00:00:00+08:00", "to": "2021-06-01T00:00:00+08:00"}, "invalid_value"),
    ],
)
def test_a_filter_that_can_match_nothing_is_refused(
    api: Api, path: str, params: dict[str, str], rule: str
) -> None:
    answer = get(api, "admin", path, **params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == rule


def test_exports_say_how_current_they_are(api: Api) -> None:
    _, position = recommended(api)
    for path, params in (("roster.xlsx", {}), ("audit", {"format": "csv"}), ("audit", {"format": "xlsx"})):
        answer = get(api, "admin", path, min_position=position, **params)
        assert answer.status_code == 200, answer.text
        assert int(answer.headers["X-View-Position"]) >= position
        assert answer.headers["X-View-Lag"] == "0"
    assert get(api, "admin", "contestants", city="武汉").json()["total"] == 4  # a city's short name
