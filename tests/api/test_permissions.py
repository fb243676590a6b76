"""Who may do what: every mutating endpoint tried by every role, and by staff of another city."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from tests.api.helpers import (
    ADMIN_HEADERS,
    AWARDING,
    COMPETING,
    OWN_CITY,
    PICKING,
    RECOMMENDING,
    REVIEWING,
    ROLES,
    SCORES,
    TRAINED,
    TRAINING,
    Api,
    form,
)

# The steps (action, instant, body) that bring a fresh contestant to each state.
TO_STATE: dict[str, list[tuple[str, datetime, dict[str, Any]]]] = {
    "nominated": [],
    "verified": [("verify", REVIEWING, {})],
}
TO_STATE["enrolled"] = [*TO_STATE["verified"], ("training-account", TRAINING, {"training_account": "t-1"})]
TO_STATE["trained"] = [*TO_STATE["enrolled"], ("trained", TRAINED, {})]
TO_STATE["competed"] = [*TO_STATE["trained"], ("results", COMPETING, {"scores": SCORES})]
TO_STATE["advanced"] = [*TO_STATE["competed"], ("advance", PICKING, {"role": "streamer"})]

# endpoint, state it needs, when it is tried, its body, the roles allowed
MATRIX: list[tuple[str, str, datetime, dict[str, Any], set[str]]] = [
    ("verify", "nominated", REVIEWING, {}, {"admin"}),
    ("reject", "nominated", REVIEWING, {"reason": "no certificate"}, {"admin"}),
    ("training-account", "verified", TRAINING, {"training_account": "hb-0001"}, {"admin"}),
    ("trained", "enrolled", TRAINED, {}, {"admin", "judge"}),
    ("results", "trained", COMPETING, {"scores": SCORES}, {"admin", "judge"}),
    ("advance", "competed", PICKING, {"role": "streamer"}, {"admin", "city_staff"}),
    ("award", "advanced", AWARDING, {"award": "一等奖"}, {"admin"}),
    ("withdraw", "nominated", REVIEWING, {"reason": "moved away"}, {"admin", "city_staff"}),
    ("disqualify", "nominated", REVIEWING, {"reason": "fake followers"}, {"admin"}),
]


@pytest.mark.parametrize(("endpoint", "state", "at", "body", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_contestant_decisions_by_role_and_city(
    api: Api, endpoint: str, state: str, at: datetime, body: dict[str, Any], allowed: set[str]
) -> None:
    seqs = itertools.count(1)
    outcomes = {}
    for role in ROLES:
        contestant_id = api.recommend(next(seqs))
        for action, when, step_body in TO_STATE[state]:
            api.step(contestant_id, action, when, step_body)
        api.clock.now = at
        answer = api.client.post(
            f"/api/contestants/{contestant_id}/{endpoint}", json=body, headers=api.as_(role)
        )
        outcomes[role] = answer.status_code
        if answer.status_code in (403, 404):
            assert answer.headers["content-type"] == "application/problem+json"
            rule = "not_permitted" if answer.status_code == 403 else "not_found"
            assert answer.json()["type"].endswith(f"/{rule}")
        # a refusal records nothing: the contestant stays at the version it had
        version = api.client.get(f"/api/contestants/{contestant_id}", headers=ADMIN_HEADERS).json()["version"]
        assert version == 1 + len(TO_STATE[state]) + (answer.status_code == 200)
    # roles that may not read the contestant learn nothing of it: 404, as for an unknown id
    hidden = {"leader", "other_city_staff"}
    assert outcomes == {role: 200 if role in allowed else 404 if role in hidden else 403 for role in ROLES}


def test_recommendation_by_role_and_city(api: Api) -> None:
    api.clock.now = RECOMMENDING
    outcomes = {
        role: api.client.post(
            f"/api/campaigns/{api.campaign_id}/contestants", json=form(seq, OWN_CITY), headers=api.as_(role)
        ).status_code
        for seq, role in enumerate(ROLES, start=1)
    }
    allowed = {"admin", "city_staff"}
    assert outcomes == {role: 201 if role in allowed else 403 for role in ROLES}


def test_campaign_writes_are_for_organisers_only(api: Api) -> None:
    cid = api.campaign_id
    api.clock.now = RECOMMENDING
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/api/campaigns", {"name": "another"}),
        (
            f"/api/campaigns/{cid}/timeline",
            {"timeline": {"ceremony": {"closes": "2021-09-17T00:00+08:00"}}, "reason": "r"},
        ),
        (f"/api/campaigns/{cid}/phases/self_registration/open", {"reason": "announced"}),
        (f"/api/campaigns/{cid}/phases/recommendation/close", {"reason": "lists are in"}),
        ("/api/users", {"username": "someone", "role": "judge"}),
    ]
    for path, body in writes:
        # the organisers go last: what they create exists afterwards
        order = [*(role for role in ROLES if role != "admin"), "admin"]
        outcomes = {
            role: api.client.post(path, json=body, headers=api.as_(role)).status_code for role in order
        }
        refused = {role: status for role, status in outcomes.items() if role != "admin"}
        assert refused == dict.fromkeys(refused, 403), path
        assert outcomes["admin"] in (200, 201), path


def test_no_token_and_a_bad_token_are_401(api: Api) -> None:
    cid = api.campaign_id
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Bearer zy_" + "0" * 32 + "_x"},
    ):
        answer = api.client.get(f"/api/campaigns/{cid}", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["type"] == "https://zhanyou.example/problems/unauthenticated"
    forged = api.tokens["judge"][:-3] + "abc"
    assert (
        api.client.get(f"/api/campaigns/{cid}", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    assert api.client.get("/api/users/me", headers=api.as_("city_staff")).json() == {
        "user": "wuhan-1",
        "role": "city_staff",
        "city": OWN_CITY,
    }
