"""How long a call to the PostgreSQL store may keep trying: briefly for a request, patiently for a worker.

The library decorates its PostgreSQL recorder methods with a fixed retry (10 tries, each
of which may wait for a pool connection): with the server down, a request would hang for
tens of seconds and hold a worker thread. Our recorders call the undecorated methods
through ``bounded`` instead:

- interactive (the default, every HTTP request): the tries of one call end within
  ``INTERACTIVE_SECONDS``, and none is tried again after the request's own deadline
  (``request_deadline``), so the request answers 503 within about 2 s;
- patient (``with patient():``, the projection runner and the scheduler): the tries of
  one call go on for ``PATIENT_SECONDS`` with a growing pause; their loops retry after
  that with their own backoff.

An insert is tried again only when it cannot have committed: it never reached the server
(no pool connection), the server refused it (an error with an SQLSTATE: the transaction
was rolled back), or its connection failed before the COMMIT was sent (``CommitNeverSent``:
a pooled connection found dead, say). A connection lost while the commit was under way may
have committed: trying again would find its own rows and look like a lost race, so that
error goes to the caller as is.

What a request's writes may have done is kept for its answer (``RequestWrites``): a
request that fails before any write could commit was not recorded and may simply be sent
again; one that fails at or after a write may have been recorded, and so may one that fails
after finding the command already on record (``on_record``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError
from psycopg_pool.base import AttemptWithBackoff

T = TypeVar("T")

INTERACTIVE_SECONDS = 1.5
PATIENT_SECONDS = 10.0
_FIRST_PAUSE = {False: 0.05, True: 0.2}
_LONGEST_PAUSE = 2.0

_patient: ContextVar[bool] = ContextVar("zhanyou_patient_store", default=False)
_request_deadline: ContextVar[float | None] = ContextVar("zhanyou_request_deadline", default=None)


class RequestWrites:
    """Whether a write of one request may have committed, for an answer that must say so.

    :ivar may_have_committed: set once a write committed, or failed in a way that may have
        committed (a connection lost while its COMMIT was under way, or any failure of a
        write on SQLite); a write refused or never sent leaves it as it was.
    """

    def __init__(self) -> None:
        self.may_have_committed = False


_request_writes: ContextVar[RequestWrites | None] = ContextVar("zhanyou_request_writes", default=None)


@contextmanager
def tracking_writes() -> Iterator[RequestWrites]:
    """The writes of the request served inside, seen by every thread it runs on (one shared object)."""
    writes = RequestWrites()
    token = _request_writes.set(writes)
    try:
        yield writes
    finally:
        _request_writes.reset(token)


def request_writes() -> RequestWrites | None:
    """The writes of the request being served; None outside one (a worker, a command line)."""
    return _request_writes.get()


@contextmanager
def writing(refusals: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Around one write on behalf of the request: afterwards it may have committed, unless it
    failed with one of ``refusals`` (refused and rolled back) or in a way that committed
    nothing (``never_committed``)."""
    try:
        yield
    except BaseException as error:
        if not isinstance(error, refusals) and not never_committed(error):
            _may_have_committed()
        raise
    _may_have_committed()


def on_record() -> None:
    """The command is known to be on record (its decision returned, or it found its own earlier
    write): no later failure of the request may say it was not recorded."""
    _may_have_committed()


def _may_have_committed() -> None:
    writes = _request_writes.get()
    if writes is not None:
        writes.may_have_committed = True


@contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Every store call of a request together: no call is tried again after ``seconds`` from now."""
    token = _request_deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _request_deadline.reset(token)


def tune_pool_reconnects() -> None:
    """A pool that lost its server retries every second, not after doubling delays (1, 2, 4, 8 s...):
    after a restart, even a quiet pool (the views') is connected again within about a second."""
    AttemptWithBackoff.DELAY_BACKOFF = 1.0


@contextmanager
def patient() -> Iterator[None]:
    """Store calls made inside keep trying for longer (background work, not requests)."""
    token = _patient.set(True)
    try:
        yield
    finally:
        _patient.reset(token)


def is_patient() -> bool:
    return _patient.get()


class CommitNeverSent(psycopg.OperationalError):
    """A write's connection failed before its COMMIT was sent: the server rolled it back."""


def never_committed(error: BaseException) -> bool:
    """True when the failed call cannot have changed anything in the store."""
    cause = error.__cause__ or error
    if isinstance(cause, psycopg_pool.PoolTimeout | CommitNeverSent):  # nothing was ever committed
        return True
    return isinstance(cause, psycopg.Error) and cause.sqlstate is not None  # the server rolled it back


def bounded(call: Callable[[], T], *, pool_wait: float, idempotent: bool = True) -> T:
    """``call()``, tried again on a lost or missing connection while the caller's patience lasts.

    ``pool_wait`` is how long one try may wait for a pool connection: a further try starts
    only if it can finish before the deadline.
    """
    waiting = is_patient()
    deadline = time.monotonic() + (PATIENT_SECONDS if waiting else INTERACTIVE_SECONDS)
    overall = None if waiting else _request_deadline.get()
    if overall is not None:  # the first try always happens: a slow but working store still answers
        deadline = min(deadline, overall)
    pause = _FIRST_PAUSE[waiting]
    while True:
        try:
            return call()
        except (OperationalError, InterfaceError) as error:
            if not idempotent and not never_committed(error):
                raise
            if time.monotonic() + pause + pool_wait > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
