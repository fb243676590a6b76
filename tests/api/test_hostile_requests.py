"""Streamed bodies, extreme instants, headers: each a clear 4xx, never a 500 (see test_hostile_uploads)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.headers import SECURITY_HEADERS
from tests.api.helpers import ADMIN_HEADERS, Api


def test_a_streamed_body_over_the_limit_is_refused_before_authentication(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(12):  # 12 MiB in 1 MiB chunks, no Content-Length
            yield b" " * (1024 * 1024)

    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()["rule"]) == (413, "too_large"), answer.text
    assert answer.json()["instance"] == f"/api/campaigns/{api.campaign_id}/contestants"
    assert [problem["field"] for problem in answer.json()["errors"]] == ["body"]


def test_a_declared_length_over_the_limit_names_the_body(api: Api) -> None:
    answer = api.client.post("/api/campaigns", content=b"x" * 11_000_000, headers=ADMIN_HEADERS)
    assert answer.status_code == 413, answer.text
    body = answer.json()
    assert (body["rule"], body["instance"]) == ("too_large", "/api/campaigns")
    assert body["errors"] == [{"field": "body", "detail": "the request body exceeds 10485760 bytes"}]
    chinese = api.client.post(
        "/api/campaigns", content=b"x" * 11_000_000, headers={**ADMIN_HEADERS, "Accept-Language": "zh"}
    )
    assert chinese.json()["errors"][0]["detail"] == "提交内容过大，超过了大小上限"


def test_json_too_deep_or_a_number_too_long_is_422_naming_where(api: Api) -> None:
    json_headers = {**ADMIN_HEADERS, "content-type": "application/json"}
    url = f"/api/campaigns/{api.campaign_id}/contestants"
    deep = api.client.post(url, content=b"[" * 100_000, headers=json_headers)
    assert deep.status_code == 422, deep.text
    assert deep.json()["rule"] == "invalid_value"
    assert deep.json()["errors"] == [{"field": "body", "detail": "not valid JSON (nested too deeply)"}]
    assert deep.json()["instance"] == url
    long = b'{"name": "x", "followers": ' + b"9" * 5000 + b"}"
    answer = api.client.post(url, content=long, headers=json_headers)
    assert answer.status_code == 422, answer.text
    assert [problem["field"] for problem in answer.json()["errors"]] == ["followers"]
    assert "digits" in answer.json()["errors"][0]["detail"]
    nested = b'{"timeline": {"contest": [1, -' + b"1" * 5000 + b"]}}"
    answer = api.client.post("/api/campaigns", content=nested, headers=json_headers)
    assert [problem["field"] for problem in answer.json()["errors"]] == ["timeline.contest.1"], answer.text


EXTREMES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:59:59+08:00")


@pytest.mark.parametrize("instant", EXTREMES)
def test_instants_outside_1900_to_2100_are_422_naming_the_field(api: Api, instant: str) -> None:
    contestant_id = api.recommend(1)
    cid = api.campaign_id
    asks = {
        "as_of": api.client.get(
            f"/api/contestants/{contestant_id}", params={"as_of": instant}, headers=ADMIN_HEADERS
        ),
        "from": api.client.get(
            f"/api/campaigns/{cid}/audit", params={"from": instant}, headers=ADMIN_HEADERS
        ),
        "to": api.client.get(f"/api/campaigns/{cid}/audit", params={"to": instant}, headers=ADMIN_HEADERS),
        "timeline.contest.opens": api.client.post(
            "/api/campaigns",
            json={"name": "x", "template": "hubei-2021", "timeline": {"contest": {"opens": instant}}},
            headers=ADMIN_HEADERS,
        ),
        "start": api.client.post(
            "/api/campaigns",
            json={"name": "y", "template": "hubei-2021", "start": instant[:10]},
            headers=ADMIN_HEADERS,
        ),
        "timeline.finals.closes": api.client.post(
            f"/api/campaigns/{cid}/timeline",
            json={"timeline": {"finals": {"closes": instant}}, "reason": "改期"},
            headers=ADMIN_HEADERS,
        ),
    }
    for field, answer in asks.items():
        assert answer.status_code == 422, (field, answer.text)
        assert field in [problem["field"] for problem in answer.json()["errors"]], (field, answer.text)


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    answers = [
        api.client.get("/healthz"),
        api.client.get("/api/nowhere"),
        api.client.get(f"/api/campaigns/{api.campaign_id}/contestants"),  # 401
        api.client.post("/api/campaigns", content=b"x" * 11_000_000, headers=ADMIN_HEADERS),  # 413
    ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.status_code, name)
        assert "no-store" not in answer.headers.get("cache-control", "")


def test_what_a_reader_is_given_under_the_api_is_never_cached(api: Api) -> None:
    api.recommend(1)
    for path in ("contestants", "roster.xlsx", "audit?format=csv", "quotas"):
        answer = api.client.get(f"/api/campaigns/{api.campaign_id}/{path}", headers=ADMIN_HEADERS)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers.get("cache-control") == "no-store", path


def test_three_hundred_thousand_unknown_keys_are_one_short_problem(api: Api) -> None:
    body = "{" + ",".join(f'"k{i}":0' for i in range(300_000)) + "}"
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        content=body.encode(),
        headers={**ADMIN_HEADERS, "content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert len(answer.json()["errors"]) == 51
    assert len(answer.content) < 20_000
