"""A store that fails under a command: the 503 says truthfully whether the command may have been
recorded, in English and in Chinese, and never quotes the driver (the log does)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, StoredEvent

from api.messages_zh import STORE_OUTCOMES
from application.errors import StoreUnavailable
from application.settings import Settings
from application.store_policy import CommitNeverSent
from tests.api.helpers import ADMIN_HEADERS, Api, form

DRIVER_WORDS = "consuming input failed: server closed the connection unexpectedly"
ZH = {"Accept-Language": "zh-CN"}


def _driver_error(settings: Settings, text: str = DRIVER_WORDS) -> OperationalError:
    """A lost connection as the library raises it, the driver's error as its cause."""
    cause: Exception
    cause = psycopg.OperationalError(text) if settings.is_postgres else sqlite3.OperationalError(text)
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def _no_internals(answer_text: str, settings: Settings) -> None:
    assert DRIVER_WORDS not in answer_text
    assert "server closed" not in answer_text
    if settings.is_postgres:
        assert "127.0.0.1" not in answer_text
        assert f'"{settings.database_schema}' not in answer_text
        assert f" {settings.database_schema}" not in answer_text
    else:
        assert str(settings.sqlite_path.parent) not in answer_text


def _break_rate_limit_store(api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store = api.client.app.state.registration_limiter._store  # type: ignore[attr-defined]

    def lost(*args: object, **kwargs: object) -> Any:
        if settings.is_postgres:
            raise psycopg.OperationalError(DRIVER_WORDS)
        raise sqlite3.OperationalError(DRIVER_WORDS)

    monkeypatch.setattr(store, "_pool" if settings.is_postgres else "_connect", _Failing(lost))


class _Failing:
    """Stands in for a pool (``.connection()``) or a connect function: every use fails."""

    def __init__(self, fail: Callable[..., Any]) -> None:
        self._fail = fail

    def __call__(self, *args: object, **kwargs: object) -> Any:
        return self._fail()

    def connection(self, *args: object, **kwargs: object) -> Any:
        return self._fail()


def test_a_registration_refused_at_the_rate_limit_check_says_it_was_not_recorded(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    head = api.log_head()
    _break_rate_limit_store(api, settings, monkeypatch)
    path = f"/api/campaigns/{api.campaign_id}/registrations"
    with caplog.at_level(logging.WARNING, logger="zhanyou.api"):
        answer = api.client.post(path, json=form(1, group="veteran"), headers={"Idempotency-Key": "reg-1"})
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert (body["rule"], body["outcome"]) == ("store_unavailable", "not_recorded")
    assert body["detail"].startswith("the rate-limit store is unreachable; ")
    assert "not recorded" in body["detail"]
    assert "safe to send it again" in body["detail"]
    assert "may have been recorded" not in body["detail"]
    _no_internals(answer.text, settings)
    assert DRIVER_WORDS in caplog.text  # the operator still learns why
    assert api.log_head() == head  # and indeed nothing was written

    chinese = api.client.post(path, json=form(1, group="veteran"), headers=ZH)
    assert chinese.status_code == 503
    assert chinese.json()["detail"] == STORE_OUTCOMES["not_recorded"]
    assert chinese.json()["rule"] == "store_unavailable"
    _no_internals(chinese.text, settings)


def _launch(api: Api, name: str, key: str, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(
        "/api/campaigns",
        json={"name": name, "template": "hubei-2021"},
        headers={**ADMIN_HEADERS, "Idempotency-Key": key, **(headers or {})},
    )


def test_a_command_lost_at_its_commit_says_it_may_have_been_recorded_and_the_resend_tells(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]
    insert = recorder.insert_events

    def committed_then_lost(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        insert(stored_events, **kwargs)  # the COMMIT went through; its answer never came back
        raise _driver_error(settings)

    monkeypatch.setattr(recorder, "insert_events", committed_then_lost)
    answer = _launch(api, "战友杯 lost answer", "launch-lost")
    chinese = _launch(api, "战友杯 lost answer zh", "launch-lost-zh", ZH)
    monkeypatch.undo()

    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert (body["rule"], body["outcome"]) == ("store_unavailable", "may_be_recorded")
    assert "may have been recorded" in body["detail"]
    assert "same Idempotency-Key" in body["detail"]
    _no_internals(answer.text, settings)
    assert chinese.status_code == 503
    assert chinese.json()["detail"] == STORE_OUTCOMES["may_be_recorded"]

    again = _launch(api, "战友杯 lost answer", "launch-lost")
    assert again.status_code == 201, again.text  # it had been recorded: the resend answers its result
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_a_resend_whose_kept_answer_cannot_be_read_says_it_may_have_been_recorded(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _launch(api, "战友杯 sent twice", "launch-twice")
    assert first.status_code == 201, first.text
    service = api.client.app.state.service  # type: ignore[attr-defined]

    def unread(user: str, key: str) -> Any:
        raise StoreUnavailable("the event store is unreachable", DRIVER_WORDS)

    monkeypatch.setattr(service, "recall_answer", unread)
    resent = _launch(api, "战友杯 sent twice", "launch-twice")
    monkeypatch.undo()
    assert resent.status_code == 503, resent.text
    assert resent.json()["outcome"] == "may_be_recorded"  # it was: the first answer is kept
    _no_internals(resent.text, settings)


def test_a_command_whose_read_fails_before_any_write_says_it_was_not_recorded(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]

    def lost(*args: object, **kwargs: object) -> Any:
        raise _driver_error(settings)

    monkeypatch.setattr(recorder, "select_events", lost)
    answer = _launch(api, "战友杯 read lost", "launch-read-lost")
    monkeypatch.undo()
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert (body["rule"], body["outcome"]) == ("store_unavailable", "not_recorded")
    assert "the event store is unreachable" in body["detail"]
    assert "Idempotency-Key" not in body["detail"]
    _no_internals(answer.text, settings)
    again = _launch(api, "战友杯 read lost", "launch-read-lost")
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") is None  # decided now: nothing had been kept


def test_a_write_whose_commit_was_never_sent_says_it_was_not_recorded(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not settings.is_postgres:
        pytest.skip("a COMMIT that is never sent is a PostgreSQL connection's failure")
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]

    def dead_connection(*args: object, **kwargs: object) -> Any:
        raise _never_sent()

    monkeypatch.setattr(recorder, "_insert_once", dead_connection)
    answer = _launch(api, "战友杯 never sent", "launch-never-sent")
    monkeypatch.undo()
    assert answer.status_code == 503, answer.text
    assert answer.json()["outcome"] == "not_recorded"
    _no_internals(answer.text, settings)
    assert _launch(api, "战友杯 never sent", "launch-never-sent").status_code == 201


def test_a_read_answered_503_names_no_outcome_and_no_driver_words(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    contestant_id = api.recommend(1)
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]

    def lost(*args: object, **kwargs: object) -> Any:
        raise _driver_error(settings)

    monkeypatch.setattr(recorder, "select_events", lost)
    answer = api.client.get(f"/api/contestants/{contestant_id}", headers=api.as_("admin"))
    monkeypatch.undo()
    assert answer.status_code == 503, answer.text
    assert "outcome" not in answer.json()
    _no_internals(answer.text, settings)


def _never_sent() -> OperationalError:
    """A write whose connection failed before its COMMIT was sent: nothing of it was stored."""
    cause = CommitNeverSent(DRIVER_WORDS)
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def _disable(api: Api, username: str, key: str) -> Any:
    return api.client.post(
        f"/api/users/{username}/disable",
        json={"reason": "离岗"},
        headers={**ADMIN_HEADERS, "Idempotency-Key": key},
    )


def test_a_refusal_lost_while_it_was_kept_says_it_may_have_been_recorded(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]
    keep = recorder.keep_answer

    def kept_then_lost(answer: Any) -> None:
        keep(answer)  # the refusal is kept; the answer to its COMMIT never came back
        raise _driver_error(settings)

    monkeypatch.setattr(recorder, "keep_answer", kept_then_lost)
    answer = _disable(api, "nobody-9", "disable-nobody")
    monkeypatch.undo()
    assert answer.status_code == 503, answer.text
    assert answer.json()["outcome"] == "may_be_recorded"
    _no_internals(answer.text, settings)

    again = _disable(api, "nobody-9", "disable-nobody")
    assert again.status_code == 404, again.text  # the kept refusal: it had been recorded
    assert again.headers.get("Idempotent-Replayed") == "true"


def _keeping_never_sent(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer kept from now on fails before it reaches the store."""

    def never_sent(answer: Any) -> None:
        raise _never_sent()

    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]
    monkeypatch.setattr(recorder, "keep_answer", never_sent)


def test_a_refusal_whose_keeping_was_never_sent_says_it_was_not_recorded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keeping_never_sent(api, monkeypatch)
    answer = _disable(api, "nobody-9", "disable-nobody")
    monkeypatch.undo()
    assert answer.status_code == 503, answer.text
    assert answer.json()["outcome"] == "not_recorded"
    again = _disable(api, "nobody-9", "disable-nobody")
    assert again.status_code == 404, again.text
    assert again.headers.get("Idempotent-Replayed") is None  # decided now: nothing had been kept


def test_a_resend_that_finds_its_command_done_never_says_it_was_not_recorded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keeping_never_sent(api, monkeypatch)
    first = _disable(api, "judge-1", "disable-judge")  # disabled, its answer not kept
    resent = _disable(api, "judge-1", "disable-judge")  # finds the user disabled: records nothing
    monkeypatch.undo()
    assert first.status_code == 503, first.text
    assert first.json()["outcome"] == "may_be_recorded"
    assert resent.status_code == 503, resent.text
    assert resent.json()["outcome"] == "may_be_recorded"  # the command is on record
    users = api.client.get("/api/users", headers=ADMIN_HEADERS).json()
    assert [u["disabled"] for u in users if u["username"] == "judge-1"] == [True]


def test_completing_an_erasure_already_on_record_never_says_it_was_not_recorded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    contestant_id = api.recommend(1)
    path = f"/api/contestants/{contestant_id}/erase"
    erased = api.client.post(path, json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS)
    assert erased.status_code == 200, erased.text
    recorder = api.client.app.state.service.recorder  # type: ignore[attr-defined]

    def never_sent(subjects: Any) -> int:
        raise _never_sent()

    monkeypatch.setattr(recorder, "destroy_person_keys", never_sent)
    again = api.client.post(path, json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS)
    monkeypatch.undo()
    assert again.status_code == 503, again.text
    assert again.json()["outcome"] == "may_be_recorded"  # the erasure is on record
