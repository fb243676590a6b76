"""``Idempotency-Key``: the first answer to a (user, key) is kept in the store and returned
again for every retry, so a retried write records nothing twice.

A success is kept in the same transaction as the command's events (see
``application/answers.py``), so no crash can keep the events without the answer. A refusal
by the rules (403, 404, 409, 412, 422) is kept on its own; an unavailable store (503) is not
kept, so the retry tries again. Retries of one key are serialised inside a process; across
processes the kept answer wins.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.problems import PROBLEM_MEDIA_TYPE, ApiProblem, field_problems, problem_body, status_of
from application.answers import AnswerKept, PendingAnswer, StoredAnswer, answering
from application.errors import ApplicationError, Contended, StoreUnavailable
from application.service import CampaignService
from application.store_policy import on_record
from domain.errors import DomainError

REPLAYED_HEADER = "Idempotent-Replayed"
#: How long a request waits for its key's lock before it is answered 503 (the holder may be stuck
#: on a store that stopped answering): under ``ZHANYOU_ANSWER_WITHIN_SECONDS``' default.
LOCK_SECONDS = 10.0
A = TypeVar("A", bound=Aggregate)
#: The answer to keep, from the first aggregate the command saves.
Render = Callable[[Aggregate], BaseModel]


def rendered(kind: type[A], render: Callable[[A], BaseModel]) -> Render:
    """A ``Render`` for commands whose first saved aggregate is a ``kind``."""

    def of(aggregate: Aggregate) -> BaseModel:
        if not isinstance(aggregate, kind):  # pragma: no cover - a route naming the wrong kind
            raise TypeError(f"expected a {kind.__name__}, not {type(aggregate).__name__}")
        return render(aggregate)

    return of


class KeyLocks:
    """A fixed set of locks; a key always maps to the same one."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def of(self, user: str, key: str) -> threading.Lock:
        digest = hashlib.sha256(f"{user}\x1f{key}".encode()).digest()
        return self._locks[int.from_bytes(digest[:4], "big") % len(self._locks)]

    @contextmanager
    def holding(self, user: str, key: str, seconds: float = LOCK_SECONDS) -> Iterator[None]:
        """The key's lock, waited for at most ``seconds``: its holder may be a request the store
        keeps waiting, and whatever it decided may be on record."""
        lock = self.of(user, key)
        if not lock.acquire(timeout=seconds):
            waiting = "another request with this Idempotency-Key is still waiting for the store"
            raise StoreUnavailable(waiting, may_be_recorded=True)
        try:
            yield
        finally:
            lock.release()


class Idempotency:
    def __init__(
        self, service: CampaignService, locks: KeyLocks, user: str, key: str | None, request: Request
    ) -> None:
        self._service = service
        self._locks = locks
        self._user = user
        self._key = key
        self._request = request

    def _fingerprint(self, payload: BaseModel | None) -> str:
        request = self._request
        parts = {
            "method": request.method,
            "path": request.url.path,
            "query": str(request.url.query),
            "if_match": request.headers.get("if-match"),
            "body": payload.model_dump(mode="json") if payload is not None else None,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def answer(
        self,
        status: int,
        payload: BaseModel | None,
        decide: Callable[[], BaseModel],
        render: Render | None = None,
    ) -> JSONResponse:
        """Decide once per key; ``status`` is the route's success status.

        ``render`` makes the answer to keep from the first aggregate the command saves, so it is
        written in the same transaction; without it the answer is kept right after the command.
        """
        if self._key is None:
            return JSONResponse(decide().model_dump(mode="json"), status_code=status)
        fingerprint = self._fingerprint(payload)
        with self._locks.holding(self._user, self._key):
            try:
                kept = self._service.recall_answer(self._user, self._key)
            except Exception:
                # An earlier request with this key may be on record, its answer unread: what
                # fails now cannot say that the command was not recorded.
                on_record()
                raise
            if kept is None:
                pending = PendingAnswer(
                    self._user, self._key, fingerprint, status, None if render is None else _json(render)
                )
                given = self._decide(pending, decide)
                if given is not None:
                    return given
                kept = self._service.recall_answer(self._user, self._key)
                if kept is None:  # pragma: no cover - AnswerKept names a kept answer
                    raise StoreUnavailable("the kept answer could not be read back", may_be_recorded=True)
        if kept.fingerprint != fingerprint:
            raise ApiProblem(
                422,
                "idempotency_key_reused",
                "idempotency_key_reused: this Idempotency-Key was used for a different request",
            )
        return _response(kept.status, kept.body, replayed=True)

    def _decide(self, pending: PendingAnswer, decide: Callable[[], BaseModel]) -> JSONResponse | None:
        """The first answer, kept; None when another answer was kept meanwhile."""
        try:
            with answering(pending):
                body = decide().model_dump(mode="json")
        except (StoreUnavailable, Contended):
            raise
        except AnswerKept:
            on_record()  # another answer to this key was kept meanwhile
            return None
        except (DomainError, ApplicationError) as error:
            status = status_of(error)
            refusal = problem_body(
                status,
                error.rule,
                error.detail,
                instance=self._request.url.path,
                errors=field_problems(error),
            )
            return self._keep(StoredAnswer(pending.user, pending.key, pending.fingerprint, status, refusal))
        if pending.kept is None:
            # Nothing was saved with it: the command found its own earlier write, or saved nothing.
            on_record()  # done: a failure to keep its answer cannot say it was not recorded
            return self._keep(
                StoredAnswer(pending.user, pending.key, pending.fingerprint, pending.status, body)
            )
        return _response(pending.status, body, replayed=False)  # the first answer in full (a token, say)

    def _keep(self, answer: StoredAnswer) -> JSONResponse | None:
        kept = self._service.remember_answer(answer)
        if kept is not answer:
            return None
        return _response(answer.status, answer.body, replayed=False)


def _json(render: Render) -> Callable[[Aggregate], Any]:
    return lambda aggregate: render(aggregate).model_dump(mode="json")


def _response(status: int, body: Any, *, replayed: bool) -> JSONResponse:
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)
