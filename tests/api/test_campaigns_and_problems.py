"""Campaign resources, self-registration, and the problem+json shape of every kind of error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form
from tests.builders import shanghai

PROBLEM = "application/problem+json"


def _problem(answer_status: int, body: dict[str, object], rule: str) -> None:
    assert body["status"] == answer_status
    assert body["type"] == f"https://zhanyou.example/problems/{rule}"
    assert body["rule"] == rule
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert body["detail"]


def test_a_campaign_shows_its_timeline_with_statuses(api: Api) -> None:
    api.clock.now = RECOMMENDING
    answer = api.client.get(f"/api/campaigns/{api.campaign_id}", headers=api.as_("leader"))
    assert answer.status_code == 200
    campaign = answer.json()
    assert campaign["rule_version"] == 1
    assert campaign["template"] == "hubei-2021"
    statuses = {code: window["status"] for code, window in campaign["timeline"].items()}
    assert statuses["publicity"] == "closed"
    assert statuses["recommendation"] == "open"
    assert statuses["self_registration"] == "pending"
    assert campaign["quotas"]["武汉市"] == {"trainee": 222, "veteran": 110}


def test_amendments_and_overrides_bump_the_rule_version(api: Api) -> None:
    cid = api.campaign_id
    api.clock.now = RECOMMENDING
    amended = api.client.post(
        f"/api/campaigns/{cid}/timeline",
        json={
            "timeline": {"ceremony": {"opens": "2021-09-16T00:00+08:00", "closes": "2021-09-16T16:00Z"}},
            "reason": "venue moved",
        },
        headers=ADMIN_HEADERS,
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["rule_version"] == 2
    assert amended.json()["timeline"]["ceremony"]["opens"] == "2021-09-16T00:00:00+08:00"  # local offset

    opened = api.client.post(
        f"/api/campaigns/{cid}/phases/self_registration/open",
        json={"reason": "announced"},
        headers=ADMIN_HEADERS,
    )
    assert opened.status_code == 200
    assert opened.json()["timeline"]["self_registration"]["status"] == "open"
    assert opened.json()["timeline"]["self_registration"]["recorded"] == "open"

    registered = api.client.post(f"/api/campaigns/{cid}/registrations", json=form(5, group="veteran"))
    assert registered.status_code == 202
    assert registered.json()["message"] == "已收到报名，审核后通知结果"
    trainee = api.client.post(f"/api/campaigns/{cid}/registrations", json=form(6, group="trainee"))
    assert trainee.status_code == 409
    assert trainee.json()["rule"] == "group_not_allowed"

    api.clock.now = RECOMMENDING + timedelta(hours=1)
    closed = api.client.post(
        f"/api/campaigns/{cid}/phases/self_registration/close",
        json={"reason": "enough"},
        headers=ADMIN_HEADERS,
    )
    assert closed.status_code == 200
    late = api.client.post(f"/api/campaigns/{cid}/registrations", json=form(7, group="family"))
    assert late.status_code == 409
    _problem(409, late.json(), "phase_closed")
    again = api.client.post(
        f"/api/campaigns/{cid}/phases/self_registration/close",
        json={"reason": "enough"},
        headers=ADMIN_HEADERS,
    )
    _problem(409, again.json(), "invalid_timeline")


def test_an_explicit_timeline_launches_a_campaign(api: Api) -> None:
    api.clock.now = shanghai(2022, 1, 1)
    windows = {
        "registration": {"opens": "2022-01-01T00:00+08:00", "closes": "2022-02-01T00:00+08:00"},
        "recommendation": {"opens": "2022-01-01T00:00+08:00", "closes": "2022-01-20T00:00+08:00"},
    }
    answer = api.client.post(
        "/api/campaigns", json={"name": "2022", "timeline": windows}, headers=ADMIN_HEADERS
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["template"] is None
    assert body["timeline"]["recommendation"]["status"] == "open"
    assert body["timeline"]["finals"] == {
        "opens": None,
        "closes": None,
        "status": "pending",
        "recorded": "pending",
    }
    again = api.client.post(
        "/api/campaigns", json={"name": "2022", "timeline": windows}, headers=ADMIN_HEADERS
    )
    _problem(409, again.json(), "campaign_exists")
    backwards = {"finals": {"opens": "2022-09-02T00:00+08:00", "closes": "2022-09-01T00:00+08:00"}}
    refused = api.client.post(
        "/api/campaigns", json={"name": "x", "timeline": backwards}, headers=ADMIN_HEADERS
    )
    _problem(409, refused.json(), "invalid_timeline")


def test_bad_input_names_every_bad_field(api: Api) -> None:
    api.clock.now = RECOMMENDING
    path = f"/api/campaigns/{api.campaign_id}/contestants"
    shape = api.client.post(path, json={"name": "x", "followers": "many", "extra": 1}, headers=ADMIN_HEADERS)
    assert shape.status_code == 422
    assert shape.headers["content-type"] == PROBLEM
    _problem(422, shape.json(), "invalid_value")
    fields = {e["field"] for e in shape.json()["errors"]}
    assert {"group", "city", "id_number", "mobile", "platform", "account", "followers", "extra"} <= fields

    values = api.client.post(
        path,
        json=form(1, id_number="420102199001011230", mobile="12345", city="北京市"),
        headers=ADMIN_HEADERS,
    )
    assert values.status_code == 422
    _problem(422, values.json(), "invalid_value")
    assert {e["field"] for e in values.json()["errors"]} == {"id_number", "mobile", "city"}

    naive = api.client.post(
        "/api/campaigns",
        json={"name": "n", "timeline": {"finals": {"opens": "2021-09-06T00:00"}}},
        headers=ADMIN_HEADERS,
    )
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "timeline.finals.opens"
    code = api.client.post(
        f"/api/campaigns/{api.campaign_id}/phases/nonsense/open", json={"reason": "r"}, headers=ADMIN_HEADERS
    )
    assert code.status_code == 422
    assert code.json()["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    "path",
    ["/api/campaigns/{uuid}", "/api/contestants/{uuid}", "/api/contestants/{uuid}/history", "/api/nowhere"],
)
def test_unknown_ids_are_404(api: Api, path: str) -> None:
    answer = api.client.get(path.format(uuid="00000000-0000-4000-8000-000000000000"), headers=ADMIN_HEADERS)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == PROBLEM
    _problem(404, answer.json(), "not_found")


def test_a_full_quota_is_409(api: Api) -> None:
    api.clock.now = RECOMMENDING
    path = f"/api/campaigns/{api.campaign_id}/contestants"
    for seq in range(1, 4):  # 神农架林区 has 3 trainee places
        assert api.client.post(path, json=form(seq, "神农架"), headers=ADMIN_HEADERS).status_code == 201
    full = api.client.post(path, json=form(4, "神农架"), headers=ADMIN_HEADERS)
    _problem(409, full.json(), "quota_full")
    account = api.client.post(path, json=form(5, account="streamer1"), headers=ADMIN_HEADERS)
    _problem(409, account.json(), "duplicate_account")


def test_self_registration_is_rate_limited_per_address(api: Api) -> None:
    limiter = api.client.app.state.registration_limiter  # type: ignore[attr-defined]
    limiter._limit = 2
    path = f"/api/campaigns/{api.campaign_id}/registrations"
    answers = [api.client.post(path, json=form(seq, group="veteran")) for seq in range(20, 23)]
    assert [a.status_code for a in answers[:2]] == [409, 409]  # the channel is not open yet
    assert answers[2].status_code == 429
    _problem(429, answers[2].json(), "rate_limited")
    assert int(answers[2].headers["retry-after"]) >= 1


def test_operations_endpoints(api: Api) -> None:
    roster = f"/api/campaigns/{api.campaign_id}/contestants"
    caught_up = {"min_position": api.log_head()}  # the view no longer moving under the two reads
    for _ in range(2):  # a miss, then a hit on the same view position
        assert api.client.get(roster, params=caught_up, headers=ADMIN_HEADERS).status_code == 200
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["last_notification_id"] > 0
    assert api.client.get("/metrics").status_code == 401
    metrics = api.client.get("/metrics", headers=ADMIN_HEADERS)
    assert metrics.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
    }
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("zhanyou_http_requests_total", healthz)] == 1
    assert samples[("zhanyou_http_request_duration_seconds_count", healthz)] == 1
    assert samples[("zhanyou_event_store_max_notification_id", ())] == ready["last_notification_id"]
    assert ("zhanyou_view_position", (("view", "roster"),)) in samples
    assert ("zhanyou_view_lag", (("view", "audit"),)) in samples
    assert samples[("zhanyou_refusals_total", (("rule", "unauthenticated"), ("status", "401")))] >= 1
    assert samples[("zhanyou_role_active", (("role", "projections"),))] == 1
    cache = {
        outcome: samples[("zhanyou_read_cache_answers", (("outcome", outcome),))]
        for outcome in ("hit", "miss", "query")
    }
    assert cache == {"hit": 1, "miss": 1, "query": 1}
    assert api.client.get("/openapi.json").status_code == 200
    too_big = api.client.post(
        "/api/campaigns",
        content=b"x" * (11 * 1024 * 1024),
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    _problem(413, too_big.json(), "too_large")


def test_a_body_that_is_not_json_says_so(api: Api) -> None:
    answer = api.client.post(
        "/api/campaigns", content=b'{"name": ', headers={**ADMIN_HEADERS, "Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["errors"]
    assert problem["field"] == "body"
    assert problem["detail"].startswith("not valid JSON (at character 9")
