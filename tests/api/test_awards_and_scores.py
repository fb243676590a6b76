"""Awards and scores: kinds as campaign settings, team prizes, several awards, 0-100, reasons."""

from __future__ import annotations

from typing import Any

from tests.api.finals import finalist
from tests.api.helpers import (
    ADMIN_HEADERS,
    AWARDING,
    COMPETING,
    OWN_CITY,
    REVIEWING,
    SCORES,
    TRAINED,
    TRAINING,
    Api,
)

TO_TRAINED: tuple[tuple[str, Any, dict[str, Any]], ...] = (
    ("verify", REVIEWING, {}),
    ("training-account", TRAINING, {"training_account": "t"}),
    ("trained", TRAINED, {}),
)


def post(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(path, json=body, headers=ADMIN_HEADERS)


def test_a_finalist_receives_several_awards_of_the_campaigns_kinds(api: Api) -> None:
    contestant = finalist(api, 1, OWN_CITY, "streamer")
    competed_only = api.recommend(2)
    for action, at, body in (*TO_TRAINED, ("results", COMPETING, {"scores": SCORES})):
        api.step(competed_only, action, at, body)
    api.clock.now = AWARDING

    first = post(api, f"/api/contestants/{contestant}/award", {"award": "一等奖"})
    second = post(api, f"/api/contestants/{contestant}/award", {"award": "优秀奖"})
    again = post(api, f"/api/contestants/{contestant}/award", {"award": "一等奖"})
    unknown = post(api, f"/api/contestants/{contestant}/award", {"award": "特等奖"})
    not_a_finalist = post(api, f"/api/contestants/{competed_only}/award", {"award": "优秀奖"})

    assert first.status_code == 200, first.text
    assert second.json()["awards"] == ["一等奖", "优秀奖"]
    assert (again.status_code, again.json()["rule"]) == (422, "invalid_value")
    assert (unknown.status_code, unknown.json()["rule"]) == (422, "invalid_value")
    assert "一等奖、二等奖、三等奖、优秀奖" in unknown.json()["detail"]
    assert (not_a_finalist.status_code, not_a_finalist.json()["rule"]) == (409, "invalid_transition")


def test_a_city_team_receives_a_team_prize(api: Api) -> None:
    finalist(api, 1, OWN_CITY, "streamer")
    api.clock.now = AWARDING
    team = post(api, f"/api/campaigns/{api.campaign_id}/teams/{OWN_CITY}/awards", {"award": "优秀组织奖"})
    individual = post(api, f"/api/campaigns/{api.campaign_id}/teams/{OWN_CITY}/awards", {"award": "一等奖"})
    assert team.status_code == 200, team.text
    assert team.json()["awards"] == ["优秀组织奖"]
    assert (individual.status_code, individual.json()["rule"]) == (422, "invalid_value")
    position = api.client.get("/readyz").json()["last_notification_id"]
    teams = api.client.get(
        f"/api/campaigns/{api.campaign_id}/teams", params={"min_position": position}, headers=ADMIN_HEADERS
    ).json()["teams"]
    assert teams[0]["awards"] == ["优秀组织奖"]


def test_scores_are_0_to_100_and_a_correction_needs_a_reason(api: Api) -> None:
    contestant = api.recommend(1)
    for action, at, body in TO_TRAINED:
        api.step(contestant, action, at, body)
    api.clock.now = COMPETING
    path = f"/api/contestants/{contestant}/results"

    too_high = post(api, path, {"scores": {**SCORES, "short_video": 1000}})
    first = post(api, path, {"scores": SCORES})
    silent_correction = post(api, path, {"scores": {**SCORES, "short_video": 60}})
    correction = post(api, path, {"scores": {**SCORES, "short_video": 60}, "reason": "复核后更正"})

    assert (too_high.status_code, too_high.json()["rule"]) == (422, "invalid_value")
    assert "0 to 100" in too_high.json()["detail"]
    assert first.status_code == 200, first.text
    assert (silent_correction.status_code, silent_correction.json()["rule"]) == (422, "reason_required")
    assert correction.status_code == 200, correction.text
    assert correction.json()["results"]["short_video"] == 60


def test_a_campaign_sets_its_award_kinds_and_score_scale(api: Api) -> None:
    api.clock.now = REVIEWING.replace(month=5, day=21)
    launched = api.client.post(
        "/api/campaigns",
        json={
            "name": "十分制",
            "template": "hubei-2021",
            "awards": {"individual": ["金奖", "银奖"], "team": ["最佳组织奖"], "score_max": 10},
        },
        headers=ADMIN_HEADERS,
    )
    assert launched.status_code == 201, launched.text
    assert launched.json()["awards"] == {
        "individual": ["金奖", "银奖"],
        "team": ["最佳组织奖"],
        "score_max": 10.0,
    }
