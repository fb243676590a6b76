"""The first answer to a request sent with an idempotency key, kept so a retry gets it again."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = UUID("a4c1d9e2-3b6f-4e58-9d07-52f8e1c3b6aa")


def answer_id(user: str, key: str) -> UUID:
    return uuid5(_NAMESPACE, f"answer:{user}\x1f{key}")


class RecordedAnswer(Aggregate):
    """Keyed by (user, idempotency key); ``fingerprint`` tells a retry from a different request."""

    @staticmethod
    def create_id(user: str, key: str) -> UUID:
        return answer_id(user, key)

    @event("AnswerRecorded")
    def __init__(
        self, user: str, key: str, fingerprint: str, status: int, body: Any, timestamp: datetime
    ) -> None:
        self.user = user
        self.key = key
        self.fingerprint = fingerprint
        self.status = status
        self.body = body
