"""A way back for the withdrawn: nominated again while a channel is open, places retaken."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.api.helpers import ADMIN_HEADERS, OWN_CITY, REVIEWING, Api, form
from tests.builders import id_number, shanghai

WITHDRAWING = shanghai(2021, 6, 12, 9)
RETURNING = shanghai(2021, 6, 15, 10)
AFTER_RECOMMENDATION = shanghai(2021, 7, 3, 10)  # recommendation closed at 24:00 of 1 July


def nominate(api: Api, body: dict[str, Any], at: datetime, who: str = "admin") -> Any:
    api.clock.now = at
    return api.client.post(f"/api/campaigns/{api.campaign_id}/contestants", json=body, headers=api.as_(who))


def withdraw(api: Api, contestant: str, at: datetime = WITHDRAWING) -> None:
    api.step(contestant, "withdraw", at, {"reason": "本人申请退出"})


def quota_taken(api: Api, position: str, city: str = OWN_CITY, group: str = "trainee") -> int:
    quotas = api.client.get(
        f"/api/campaigns/{api.campaign_id}/quotas", params={"min_position": position}, headers=ADMIN_HEADERS
    ).json()["quotas"]
    taken: int = next(q["recommended"] for q in quotas if (q["city"], q["group"]) == (city, group))
    return taken


def status_of(api: Api, contestant: str) -> str:
    status: str = api.client.get(f"/api/contestants/{contestant}", headers=ADMIN_HEADERS).json()["status"]
    return status


def history(api: Api, contestant: str) -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/contestants/{contestant}/history", headers=ADMIN_HEADERS)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_city_staff_nominate_a_withdrawn_person_again_and_the_place_is_retaken(api: Api) -> None:
    contestant = api.recommend(1)
    api.step(contestant, "verify", shanghai(2021, 6, 11, 9))
    withdraw(api, contestant)
    again = nominate(api, form(1, mobile="13900001111", notes="重新推荐"), RETURNING, who="city_staff")

    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["status"]) == (contestant, "nominated")
    back = api.client.get(f"/api/contestants/{contestant}", headers=ADMIN_HEADERS).json()
    assert back["mobile"] == "139****1111"  # this nomination's details are taken
    assert quota_taken(api, again.headers["X-Log-Position"]) == 1
    entries = history(api, contestant)
    assert [(e["type"], e["user"], e["role"]) for e in entries[-2:]] == [
        ("Withdrawn", "bootstrap-admin", "admin"),
        ("Renominated", "wuhan-1", "city_staff"),
    ]
    assert entries[-1]["changes"]["status"] == ["withdrawn", "nominated"]
    assert entries[-1]["rule_version"] is not None
    roster = api.client.get(
        f"/api/campaigns/{api.campaign_id}/contestants",
        params={"min_position": again.headers["X-Log-Position"]},
        headers=ADMIN_HEADERS,
    ).json()["contestants"]
    assert [(c["id"], c["status"]) for c in roster] == [(contestant, "nominated")]
    funnel = api.client.get(
        f"/api/campaigns/{api.campaign_id}/funnel",
        params={"min_position": again.headers["X-Log-Position"]},
        headers=ADMIN_HEADERS,
    ).json()["rows"]
    assert [
        (r["reached"]["nominated"], r["reached"]["verified"], r["left"]["withdrawn"]) for r in funnel
    ] == [
        (1, 0, 0)  # counted afresh: the earlier review and the withdrawal are on record only
    ]
    api.step(contestant, "verify", REVIEWING)  # reviewed again like anyone nominated


def test_a_withdrawn_person_is_refused_with_the_quota_rule_while_the_quota_is_full(api: Api) -> None:
    city = "神农架"  # 3 trainee places
    first = [nominate(api, form(seq, city), shanghai(2021, 6, 10, 10)).json()["id"] for seq in (1, 2, 3)]
    withdraw(api, first[0])
    taken = nominate(api, form(4, city), shanghai(2021, 6, 13, 9))
    assert taken.status_code == 201, taken.text

    full = nominate(api, form(1, city), RETURNING)
    assert full.status_code == 409, full.text
    assert full.json()["rule"] == "quota_full"
    assert "quota for the trainee group" in full.json()["detail"]
    assert "3 of 3 places taken" in full.json()["detail"]
    assert status_of(api, first[0]) == "withdrawn"

    withdraw(api, taken.json()["id"], shanghai(2021, 6, 16, 9))
    back = nominate(api, form(1, city), shanghai(2021, 6, 17, 9))
    assert back.status_code == 201, back.text
    assert back.json()["id"] == first[0]
    assert quota_taken(api, back.headers["X-Log-Position"], "神农架林区") == 3


def test_the_way_back_is_only_while_a_channel_is_open_and_not_for_the_disqualified(api: Api) -> None:
    withdrawn, disqualified, active = api.recommend(1), api.recommend(2), api.recommend(3)
    withdraw(api, withdrawn)
    api.step(disqualified, "disqualify", WITHDRAWING, {"reason": "冒用他人证件"})

    late = nominate(api, form(1), AFTER_RECOMMENDATION)
    assert (late.status_code, late.json()["rule"]) == (409, "phase_closed")
    masked = id_number(2)[:6] + "*" * 8 + id_number(2)[-4:]
    gone = nominate(api, form(2), RETURNING)
    assert (gone.status_code, gone.json()["rule"]) == (409, "duplicate_person")
    assert gone.json()["detail"] == (
        f"nominate: the person with ID number {masked} was disqualified from this campaign "
        "and may not be nominated again"
    )
    still = nominate(api, form(3), RETURNING)
    assert (still.status_code, still.json()["rule"]) == (409, "duplicate_person")
    assert still.json()["detail"].endswith("is already a contestant of this campaign")
    elsewhere = nominate(api, form(1, city="黄石市"), RETURNING)
    assert (elsewhere.status_code, elsewhere.json()["rule"]) == (409, "duplicate_person")
    assert "return with the name, city and group of their first nomination" in elsewhere.json()["detail"]
    assert status_of(api, active) == "nominated"


def test_an_erased_person_does_not_come_back(api: Api) -> None:
    contestant = api.recommend(1)
    withdraw(api, contestant)
    api.clock.now = shanghai(2021, 6, 13, 9)
    erased = api.client.post(
        f"/api/contestants/{contestant}/erase", json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS
    )
    assert erased.status_code == 200, erased.text

    again = nominate(api, form(1), RETURNING)
    assert (again.status_code, again.json()["rule"]) == (409, "duplicate_person")
    assert "data were erased" in again.json()["detail"]
    assert status_of(api, contestant) == "withdrawn"


def test_a_withdrawn_person_registers_again_on_the_public_page_and_holds_no_quota_place(api: Api) -> None:
    contestant = api.recommend(1, group="veteran")
    api.open_self_registration(shanghai(2021, 6, 11, 9), "公众号发布报名链接")
    withdraw(api, contestant)
    path = f"/api/campaigns/{api.campaign_id}/registrations"

    api.clock.now = RETURNING
    again = api.client.post(path, json=form(1, group="veteran", account="newhandle1"))
    repeat = api.client.post(path, json=form(1, group="veteran", account="newhandle1"))
    stranger = api.client.post(path, json=form(7, group="veteran"))

    assert [a.status_code for a in (again, repeat, stranger)] == [202, 202, 202]
    assert set(again.json()) == set(stranger.json())  # one answer, whoever registers
    back = api.client.get(f"/api/contestants/{contestant}", headers=ADMIN_HEADERS).json()
    assert (back["status"], back["channel"], back["account"]) == ("nominated", "self", "newhandle1")
    position = api.log_head()
    assert quota_taken(api, position, group="veteran") == 0  # self: no city place
    own = api.client.post(
        f"{path}/status", json={"receipt": again.json()["receipt"], "id_number": id_number(1)}
    )
    assert (own.status_code, own.json()["status"]) == (200, "nominated")
    assert [e["type"] for e in history(api, contestant)] == ["Nominated", "Withdrawn", "Renominated"]
    audit = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "RegistrationDuplicated", "min_position": position},
        headers=ADMIN_HEADERS,
    )
    assert audit.status_code == 200, audit.text
    assert len(audit.json()["entries"]) == 1  # the second registration is a repeat, put before review


def test_the_public_channel_refuses_a_withdrawn_person_as_anyone_when_it_is_closed(api: Api) -> None:
    contestant = api.recommend(1, group="veteran")
    withdraw(api, contestant)
    path = f"/api/campaigns/{api.campaign_id}/registrations"
    api.clock.now = RETURNING
    returning = api.client.post(path, json=form(1, group="veteran"))
    stranger = api.client.post(path, json=form(8, group="veteran"))
    assert [a.status_code for a in (returning, stranger)] == [409, 409]  # the channel is not open
    assert returning.json()["rule"] == stranger.json()["rule"] == "phase_closed"
