"""``Idempotency-Key``: the first answer to a (user, key) is stored in the event store and
returned again for every retry, so a retried write records nothing twice.

The first answer is kept whether it was a success or a refusal by the rules (403, 404,
409, 412, 422); an unavailable store (503) is not kept, so the retry tries again. Retries of
one key are serialised inside a process; across processes the stored answer wins.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.problems import PROBLEM_MEDIA_TYPE, ApiProblem, field_problems, problem_body, status_of
from application.errors import ApplicationError, Contended, StoreUnavailable
from application.service import CampaignService
from domain.errors import DomainError
from domain.values import Actor

REPLAYED_HEADER = "Idempotent-Replayed"


class KeyLocks:
    """A fixed set of locks; a key always maps to the same one."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def of(self, user: str, key: str) -> threading.Lock:
        digest = hashlib.sha256(f"{user}\x1f{key}".encode()).digest()
        return self._locks[int.from_bytes(digest[:4], "big") % len(self._locks)]


class Idempotency:
    def __init__(
        self,
        service: CampaignService,
        locks: KeyLocks,
        user: str,
        key: str | None,
        request: Request,
        now: datetime,
        actor: Actor | None = None,
    ) -> None:
        self.actor = actor  # the authenticated caller (None for anonymous requests)
        self._service = service
        self._locks = locks
        self._user = user
        self._key = key
        self._request = request
        self._now = now

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
        *,
        redact: Callable[[Any], Any] | None = None,
    ) -> JSONResponse:
        """Decide once per key; ``status`` is the success status of the route.

        ``redact`` gives the form of a successful answer that is kept for retries: a secret
        in it (a new token) is answered once and never stored.
        """
        if self._key is None:
            return JSONResponse(decide().model_dump(mode="json"), status_code=status)
        fingerprint = self._fingerprint(payload)
        with self._locks.of(self._user, self._key):
            kept = self._service.recall_answer(self._user, self._key)
            if kept is None:
                answer_status, body = self._decide(status, decide)
                stored = redact(body) if redact is not None and answer_status == status else body
                kept = self._service.remember_answer(
                    self._user, self._key, fingerprint, answer_status, stored, at=self._now
                )
                replayed = kept.fingerprint != fingerprint or kept.body != stored
                if not replayed:
                    return _response(answer_status, body, replayed=False)
            else:
                replayed = True
        if kept.fingerprint != fingerprint:
            raise ApiProblem(
                422,
                "idempotency_key_reused",
                "idempotency_key_reused: this Idempotency-Key was used for a different request",
            )
        return _response(kept.status, kept.body, replayed)

    def _decide(self, status: int, decide: Callable[[], BaseModel]) -> tuple[int, Any]:
        try:
            return status, decide().model_dump(mode="json")
        except (StoreUnavailable, Contended):
            raise
        except (DomainError, ApplicationError) as error:
            refused = status_of(error)
            body = problem_body(
                refused,
                error.rule,
                error.detail,
                instance=self._request.url.path,
                errors=field_problems(error),
            )
            return refused, body


def _response(status: int, body: Any, replayed: bool) -> JSONResponse:
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)
