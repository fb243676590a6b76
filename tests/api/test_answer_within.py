"""A request the store keeps waiting (a server that stopped answering) is answered 503 in time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from api.messages_zh import STORE_OUTCOMES
from application.settings import Settings
from tests.api.helpers import ADMIN_HEADERS, BOOTSTRAP, Api, Clock, with_users

WITHIN = 1.0


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    clock = Clock()
    chosen = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=1000, answer_within_seconds=WITHIN)
    with TestClient(create_app(settings, chosen, clock=clock), raise_server_exceptions=False) as client:
        ready = with_users(Api(client, clock))
        ready.launch()
        yield ready


def _stalled(monkeypatch: pytest.MonkeyPatch, api: Api, method: str) -> threading.Event:
    """The store's ``method`` waits, as on a server that stopped answering, until the event is set."""
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]
    original = getattr(recorder, method)
    answering = threading.Event()

    def waiting(*args: Any, **kwargs: Any) -> Any:
        answering.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(recorder, method, waiting)
    return answering


def _launch(api: Api, key: str, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(
        "/api/campaigns",
        json={"name": f"战友杯 {key}", "template": "hubei-2021"},
        headers={**ADMIN_HEADERS, "Idempotency-Key": key, **(headers or {})},
    )


def test_a_command_the_store_keeps_waiting_is_told_in_time_that_it_may_be_recorded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    answering = _stalled(monkeypatch, api, "insert_events")
    started = time.monotonic()
    answer = _launch(api, "launch-stalled")
    took = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert WITHIN <= took < WITHIN + 2
    body = answer.json()
    assert (body["rule"], body["outcome"]) == ("store_unavailable", "may_be_recorded")
    assert "same Idempotency-Key" in body["detail"]
    assert answer.headers["Retry-After"] == "5"
    chinese = _launch(api, "launch-stalled-zh", {"Accept-Language": "zh"})
    assert chinese.status_code == 503
    assert chinese.json()["detail"] == STORE_OUTCOMES["may_be_recorded"]

    answering.set()  # the store answers again: the command it kept waiting goes through
    deadline = time.monotonic() + 10
    while (again := _launch(api, "launch-stalled")).status_code != 201 and time.monotonic() < deadline:
        time.sleep(0.1)  # the first is still finishing: its resend waits behind it
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"  # it was recorded, as it was told it might be


def test_a_read_the_store_keeps_waiting_is_answered_in_time_without_an_outcome(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    contestant_id = api.recommend(1)
    answering = _stalled(monkeypatch, api, "select_events")
    try:
        answer = api.client.get(f"/api/contestants/{contestant_id}", headers=api.as_("admin"))
    finally:
        answering.set()
    assert answer.status_code == 503, answer.text
    assert answer.json()["rule"] == "store_unavailable"
    assert "outcome" not in answer.json()


def test_a_slow_command_that_answers_in_time_is_answered_as_usual(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]
    insert = recorder.insert_events

    def slow(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        time.sleep(WITHIN / 2)
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", slow)
    assert _launch(api, "launch-slow").status_code == 201


def test_a_slow_upload_is_not_taken_for_a_store_that_stopped_answering(api: Api) -> None:
    """The clock starts again with each part of the body: the client is slow, not the store."""
    body = json.dumps({"name": "战友杯 slow upload", "template": "hubei-2021"}, ensure_ascii=False).encode()
    parts = [body[i : i + 8] for i in range(0, len(body), 8)]

    def trickle() -> Iterator[bytes]:
        for part in parts:
            time.sleep(0.8 * WITHIN / 2)
            yield part

    started = time.monotonic()
    answer = api.client.post(
        "/api/campaigns",
        content=trickle(),
        headers={**ADMIN_HEADERS, "Content-Type": "application/json", "Idempotency-Key": "slow-upload"},
    )
    assert time.monotonic() - started > 2 * WITHIN  # longer than the deadline in all
    assert answer.status_code == 201, answer.text
