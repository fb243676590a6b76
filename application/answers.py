"""Remembered answers of commands sent with an ``Idempotency-Key``, kept beside the events.

A success is written by the recorder in the same transaction as the command's events
(``save(..., answer=StoredAnswer)``), so the store never holds the one without the other:
a retry after a crash gets the first answer, not a refusal of its own write. A refusal
changes nothing, so it is kept on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

#: The ``save()`` keyword the recorders read.
ANSWER = "answer"
TABLE = "remembered_answers"


def answer_key(user: str, key: str) -> str:
    return hashlib.sha256(f"{user}\x1f{key}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    """:ivar fingerprint: tells a retry of the same request from another request with the key."""

    user: str
    key: str
    fingerprint: str
    status: int
    body: Any
    #: The aggregate the answer is about, so its answers go when it is erased.
    subject: str | None = None

    @property
    def id(self) -> str:
        return answer_key(self.user, self.key)


class AnswerKept(Exception):
    """Another answer was kept under this key meanwhile (a concurrent retry in another process)."""


@dataclass
class PendingAnswer:
    """The answer a command will give, written with the command's first save.

    :ivar render: the body to keep, from the first aggregate the command saves; None to keep
        the answer after the command instead.
    :ivar kept: the answer written, once the save went through.
    """

    user: str
    key: str
    fingerprint: str
    status: int
    render: Callable[[Aggregate], Any] | None
    kept: StoredAnswer | None = None

    def stored(self, aggregate: Aggregate) -> StoredAnswer | None:
        if self.render is None:
            return None
        body = self.render(aggregate)
        return StoredAnswer(self.user, self.key, self.fingerprint, self.status, body, str(aggregate.id))


_pending: ContextVar[PendingAnswer | None] = ContextVar("pending_answer", default=None)


@contextmanager
def answering(pending: PendingAnswer) -> Iterator[PendingAnswer]:
    """Saves made inside carry ``pending`` to the store with the command's events."""
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


def pending_answer() -> PendingAnswer | None:
    return _pending.get()


@contextmanager
def unanswered() -> Iterator[None]:
    """Saves made inside carry no pending answer: they hold other commands' events too."""
    token = _pending.set(None)
    try:
        yield
    finally:
        _pending.reset(token)
