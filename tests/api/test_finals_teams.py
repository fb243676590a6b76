"""Finals teams as the notice sets them: 1 leader, 1 assistant, 4-6 streamers (6-8 people)."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import (
    ADMIN_HEADERS,
    COMPETING,
    OTHER_CITY,
    OWN_CITY,
    PICKING,
    REVIEWING,
    SCORES,
    TRAINED,
    TRAINING,
    Api,
)


def finalist(api: Api, seq: int, city: str, role: str) -> None:
    contestant = api.recommend(seq, city)
    for action, at, body in (
        ("verify", REVIEWING, {}),
        ("training-account", TRAINING, {"training_account": f"t-{seq}"}),
        ("trained", TRAINED, {}),
        ("results", COMPETING, {"scores": SCORES}),
        ("advance", PICKING, {"role": role}),
    ):
        api.step(contestant, action, at, body)


def post(
    api: Api,
    path: str,
    body: dict[str, Any],
    who: str = "admin",
    *,
    if_match: str | None = None,
    key: str | None = None,
) -> Any:
    api.clock.now = PICKING
    headers = {
        **api.as_(who),
        **({"If-Match": if_match} if if_match else {}),
        **({"Idempotency-Key": key} if key else {}),
    }
    return api.client.post(f"/api/campaigns/{api.campaign_id}/{path}", json=body, headers=headers)


def teams(api: Api) -> dict[str, Any]:
    position = api.client.get("/readyz").json()["last_notification_id"]
    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/teams", params={"min_position": position}, headers=ADMIN_HEADERS
    )
    return {t["city"]: t for t in answer.json()["teams"]}


def audit_of(api: Api, event_type: str) -> list[dict[str, Any]]:
    """The audit trail's entries of one type, once the views hold every event recorded so far."""
    position = api.client.get("/readyz").json()["last_notification_id"]
    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": event_type, "min_position": position},
        headers=ADMIN_HEADERS,
    )
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_a_team_is_complete_only_with_its_leader_assistant_and_streamers(api: Api) -> None:
    for seq in range(1, 5):
        finalist(api, seq, OWN_CITY, "streamer")

    four_streamers = teams(api)[OWN_CITY]
    assert four_streamers["complete"] is False
    assert four_streamers["gaps"] == ["no team leader", "0 assistants, not 1"]

    finalist(api, 5, OWN_CITY, "assistant")
    leader = {"name": "王科长", "staff_user": "wuhan-1"}
    assert post(api, f"teams/{OWN_CITY}/leader", leader).status_code == 200
    assert post(api, f"teams/{OWN_CITY}/leader", leader).status_code == 200  # the same leader again

    whole = teams(api)[OWN_CITY]
    assert (whole["complete"], whole["gaps"]) == (True, [])
    entered = post(api, f"teams/{OWN_CITY}/finals", {}, who="city_staff")
    assert entered.status_code == 200, entered.text
    assert entered.json()["finals"] == "entered"
    assert teams(api)[OWN_CITY]["finals"] == "entered"

    audit = audit_of(api, "LeaderAppointed")
    assert [(e["actor_user"], e["rule_version"]) for e in audit] == [("admin-1", 1)]  # once, with its rules


def test_an_incomplete_team_enters_the_finals_only_by_an_organisers_reasoned_override(api: Api) -> None:
    finalist(api, 1, OTHER_CITY, "streamer")

    by_staff = post(api, f"teams/{OTHER_CITY}/finals", {"reason": "人手不足"}, who="other_city_staff")
    assert (by_staff.status_code, by_staff.json()["rule"]) == (409, "team_incomplete")
    assert "1 streamers, not 4 to 6" in by_staff.json()["detail"]
    no_reason = post(api, f"teams/{OTHER_CITY}/finals", {})
    assert (no_reason.status_code, no_reason.json()["rule"]) == (409, "team_incomplete")

    overridden = post(api, f"teams/{OTHER_CITY}/finals", {"reason": "疫情原因人员不足，经组委会同意"})

    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["finals"] == "overridden"
    assert teams(api)[OTHER_CITY]["finals"] == "overridden"
    again = post(api, f"teams/{OTHER_CITY}/finals", {"reason": "again"})
    assert (again.status_code, again.json()["rule"]) == (409, "invalid_timeline")


def test_if_match_guards_the_team_decisions_as_it_does_a_contestants(api: Api) -> None:
    leader = {"name": "王科长", "staff_user": "wuhan-1"}
    formed_since = post(api, f"teams/{OWN_CITY}/leader", leader, if_match='"1"')
    assert (formed_since.status_code, formed_since.json()["rule"]) == (412, "version_conflict")
    assert formed_since.json()["detail"] == (
        "appoint leader: the team is at version 0, not 1; reload and decide again"
    )
    assert post(api, f"teams/{OWN_CITY}/leader", leader, if_match='"0"').status_code == 200  # formed now: 2

    override = {"reason": "人员不足，经组委会同意"}
    stale = post(api, f"teams/{OWN_CITY}/finals", override, if_match='"1"')
    assert stale.status_code == 412, stale.text
    assert stale.json()["type"] == "https://zhanyou.example/problems/version_conflict"
    assert teams(api)[OWN_CITY]["finals"] is None
    entered = post(api, f"teams/{OWN_CITY}/finals", override, if_match='W/"2"')
    assert (entered.status_code, entered.json()["finals"]) == (200, "overridden")
    assert post(api, f"teams/{OWN_CITY}/awards", {"award": "优秀组织奖"}, if_match='"2"').status_code == 412


def test_the_bodys_reason_is_recorded_and_a_retry_gets_the_first_answer(api: Api) -> None:
    override = {"reason": "人员不足，经组委会同意"}
    first = post(api, f"teams/{OTHER_CITY}/finals", override, key="finals-huangshi-1")
    again = post(api, f"teams/{OTHER_CITY}/finals", override, key="finals-huangshi-1")
    assert first.status_code == again.status_code == 200, again.text
    gaps = ["no team leader", "0 assistants, not 1", "0 streamers, not 4 to 6"]
    assert first.json() == again.json() == {"city": OTHER_CITY, "finals": "overridden", "gaps": gaps}
    assert again.headers["Idempotent-Replayed"] == "true"

    audit = audit_of(api, "FinalsEntered")
    assert [(e["actor_user"], e["reason"]) for e in audit] == [("admin-1", "人员不足，经组委会同意")]


def test_a_team_read_gives_the_version_a_decision_on_it_names_in_if_match(api: Api) -> None:
    leader = {"name": "王科长", "staff_user": "wuhan-1"}
    assert post(api, f"teams/{OWN_CITY}/leader", leader).status_code == 200
    read = teams(api)[OWN_CITY]
    assert read["version"] == 2  # formed, then its leader

    override = {"reason": "人员不足，经组委会同意"}
    stale = post(api, f"teams/{OWN_CITY}/finals", override, if_match=f'"{read["version"] - 1}"')
    assert (stale.status_code, stale.json()["rule"]) == (412, "version_conflict")
    entered = post(api, f"teams/{OWN_CITY}/finals", override, if_match=f'"{read["version"]}"')
    assert entered.status_code == 200, entered.text
    assert teams(api)[OWN_CITY]["version"] == 3
