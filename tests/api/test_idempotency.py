"""Idempotency-Key retries and If-Match conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from api.auth import BOOTSTRAP_USER as ADMIN_USER
from application.answers import StoredAnswer
from application.service import CampaignService
from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, REVIEWING, Api, form


def _history(api: Api, contestant_id: str) -> list[str]:
    answer = api.client.get(f"/api/contestants/{contestant_id}/history", headers=ADMIN_HEADERS)
    return [entry["type"] for entry in answer.json()]


def test_a_retried_recommendation_gets_the_first_answer(api: Api) -> None:
    api.clock.now = RECOMMENDING
    headers = {**api.as_("city_staff"), "Idempotency-Key": "wuhan-row-1"}
    path = f"/api/campaigns/{api.campaign_id}/contestants"
    first = api.client.post(path, json=form(1), headers=headers)
    again = api.client.post(path, json=form(1), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _history(api, first.json()["id"]) == ["Nominated"]
    # without the key the same form is refused as a duplicate person
    duplicate = api.client.post(path, json=form(1), headers=api.as_("city_staff"))
    assert duplicate.status_code == 409
    assert duplicate.json()["rule"] == "duplicate_person"


def test_a_retried_decision_records_once_and_a_reused_key_is_refused(api: Api) -> None:
    contestant_id = api.recommend(2)
    api.clock.now = REVIEWING
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "verify-2"}
    path = f"/api/contestants/{contestant_id}/verify"
    answers = [api.client.post(path, json={"reason": "certificate seen"}, headers=headers) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["version"] for a in answers} == {2}
    assert _history(api, contestant_id) == ["Nominated", "Verified"]
    other = api.client.post(path, json={"reason": "something else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["rule"] == "idempotency_key_reused"
    # keys belong to their user: the same key by someone else is a new request
    judge = api.client.post(path, json={}, headers={**api.as_("judge"), "Idempotency-Key": "verify-2"})
    assert judge.status_code == 403


def test_a_refusal_is_kept_as_the_first_answer_too(api: Api) -> None:
    contestant_id = api.recommend(3)
    api.clock.now = REVIEWING
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "reject-3"}
    path = f"/api/contestants/{contestant_id}/reject"
    first = api.client.post(path, json={}, headers=headers)
    again = api.client.post(path, json={}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()
    assert again.headers["content-type"] == "application/problem+json"


def test_if_match_guards_against_a_contestant_that_moved_on(api: Api) -> None:
    contestant_id = api.recommend(4)
    api.clock.now = REVIEWING
    path = f"/api/contestants/{contestant_id}/verify"
    stale = api.client.post(path, json={}, headers={**ADMIN_HEADERS, "If-Match": '"2"'})
    assert stale.status_code == 412
    assert stale.json()["type"] == "https://zhanyou.example/problems/version_conflict"
    assert _history(api, contestant_id) == ["Nominated"]
    fresh = api.client.post(path, json={}, headers={**ADMIN_HEADERS, "If-Match": '"1"'})
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 2
    bad = api.client.post(path, json={}, headers={**ADMIN_HEADERS, "If-Match": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "If-Match"


def _service(api: Api) -> CampaignService:
    service: CampaignService = api.client.app.state.service  # type: ignore[attr-defined]
    return service


def test_an_answer_lost_after_its_commit_is_given_again_not_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store re-sends the insert of a committed command: the client still gets its 200."""
    contestant_id = api.recommend(5)
    api.clock.now = REVIEWING
    recorder = _service(api).recorder
    real = recorder.insert_events
    sent: list[int] = []

    def resend_first(stored_events: Any, **kwargs: Any) -> Any:
        sent.append(len(stored_events))
        ids = real(stored_events, **kwargs)
        return real(stored_events, **kwargs) if len(sent) == 1 else ids

    monkeypatch.setattr(recorder, "insert_events", resend_first)
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "verify-5"}
    path = f"/api/contestants/{contestant_id}/verify"
    first = api.client.post(path, json={}, headers=headers)
    assert first.status_code == 200
    assert first.json()["status"] == "verified"
    again = api.client.post(path, json={}, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _history(api, contestant_id) == ["Nominated", "Verified"]


def test_the_answer_and_the_events_are_kept_together_or_not_at_all(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer kept meanwhile under the key (another process) stops the command's events too."""
    contestant_id = api.recommend(6)
    api.clock.now = REVIEWING
    service = _service(api)
    other = StoredAnswer(ADMIN_USER, "verify-6", "another request", 200, {"kept": "elsewhere"})
    service.remember_answer(other)
    real_recall = service.recall_answer
    looks: list[str] = []

    def missed_once(user: str, key: str) -> StoredAnswer | None:
        looks.append(key)
        return None if len(looks) == 1 else real_recall(user, key)

    monkeypatch.setattr(service, "recall_answer", missed_once)
    answer = api.client.post(
        f"/api/contestants/{contestant_id}/verify",
        json={},
        headers={**ADMIN_HEADERS, "Idempotency-Key": "verify-6"},
    )
    assert answer.status_code == 422  # the kept answer was for another request
    assert answer.json()["rule"] == "idempotency_key_reused"
    assert _history(api, contestant_id) == ["Nominated"]
