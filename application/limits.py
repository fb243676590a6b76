"""Writers of one limit (a city quota, a group cap) take turns instead of colliding.

Every nomination reads the pools it draws from, decides, and saves them with a new
version; two writers of one pool at once means one of them is refused by the store and
decides again. Under a surge that becomes a retry storm. So a decision holds its pools'
locks from before it reads them until its save has committed:

- in this process, a lock per pool (threads queue, holding no database connection);
- across processes on PostgreSQL, a transaction-scoped advisory lock per pool, keyed by
  the pool's id and the schema. A decision on pools read from the store takes it on a
  pooled connection of its own once this process's locks are held, before reading, and
  ends that transaction after its save (a lost connection releases it). A decision on
  cached pools reads nothing, so its locks go into the insert's own transaction
  (``LIMIT_LOCKS``, ``application/recorders.py``), before the table lock, at no extra
  round trip: a rival holding them from its read to its save is still never overtaken.

Locks are always taken in the order of the pools' ids, so two decisions sharing pools
cannot deadlock. They only make conflicts rare: the store's optimistic concurrency still
guarantees the limit (exactly K of N claims for K places), also for a writer that takes no
lock or a process whose lock was lost.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresDatastore

from application.errors import Contended
from application.setup_lock import lock_key

LOCAL_WAIT_SECONDS = 20.0
ADVISORY_WAIT_SECONDS = 10
#: Save argument: the advisory lock keys the insert takes in its own transaction.
LIMIT_LOCKS = "limit_locks"


class LimitLocks:
    """``hold(ids)`` inside ``attempt()``: the pools stay locked until the attempt ends."""

    def __init__(self, datastore: PostgresDatastore | None, namespace: str) -> None:
        """``datastore``: the PostgreSQL datastore whose pool lends the lock connection, or None."""
        self._datastore = datastore
        self._namespace = namespace
        self._guard = threading.Lock()
        self._local: dict[UUID, threading.Lock] = {}
        self._attempts = threading.local()

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """One decide-and-save attempt: every lock ``hold`` takes in it is released at its end."""
        stacks: list[ExitStack] = self._attempt_stacks()
        keys: list[list[int]] = self._attempts.keys
        with ExitStack() as stack:
            stacks.append(stack)
            keys.append([])
            try:
                yield
            finally:
                stacks.pop()
                keys.pop()

    def hold(self, ids: Iterable[UUID], *, in_insert: bool = False) -> None:
        """Lock the pools ``ids`` for the rest of the current attempt (no-op outside one).

        Called once per attempt, with every pool the decision will save. ``in_insert``: the
        decision reads nothing from the store (cached pools), so the locks across processes
        are taken by its save (``insert_keys``) rather than on a connection of their own.
        """
        stacks = self._attempt_stacks()
        if not stacks:
            return
        stack = stacks[-1]
        ordered = sorted(set(ids))
        for pool_id in ordered:
            lock = self._lock_of(pool_id)
            if not lock.acquire(timeout=LOCAL_WAIT_SECONDS):
                raise Contended(f"a place limit stayed busy for {LOCAL_WAIT_SECONDS:.0f} s; retry")
            stack.callback(lock.release)
        if self._datastore is None or not ordered:
            return
        keys = [lock_key(f"zhanyou limit:{self._namespace}:{pool_id}") for pool_id in ordered]
        if in_insert:
            self._attempts.keys[-1] = keys
        else:
            stack.enter_context(self._advisory(self._datastore, keys))

    def insert_keys(self) -> list[int]:
        """The advisory lock keys the current attempt's save is to take in its transaction."""
        self._attempt_stacks()
        keys: list[list[int]] = self._attempts.keys
        return keys[-1] if keys else []

    @contextmanager
    def _advisory(self, datastore: PostgresDatastore, keys: list[int]) -> Iterator[None]:
        # Transaction-scoped locks, so a connection can never go back to the pool holding
        # one; the wait is bounded like every other lock wait of the store.
        taking = ", ".join(f"pg_advisory_xact_lock({int(key)})" for key in keys)
        with datastore.get_connection() as connection:
            try:
                connection.execute(
                    f"BEGIN; SET LOCAL lock_timeout = '{ADVISORY_WAIT_SECONDS}s'; SELECT {taking}"
                )
            except psycopg.errors.LockNotAvailable:
                connection.rollback()
                raise Contended(
                    f"a place limit stayed busy in another process for {ADVISORY_WAIT_SECONDS} s; retry"
                ) from None
            try:
                yield
            finally:
                # Ending the transaction releases the locks; a connection lost meanwhile
                # released them already, and the pool discards it.
                with contextlib.suppress(psycopg.Error):
                    connection.execute("COMMIT")

    def _lock_of(self, pool_id: UUID) -> threading.Lock:
        with self._guard:
            return self._local.setdefault(pool_id, threading.Lock())

    def _attempt_stacks(self) -> list[ExitStack]:
        stacks: list[ExitStack] | None = getattr(self._attempts, "stacks", None)
        if stacks is None:
            stacks = self._attempts.stacks = []
            self._attempts.keys = []
        return stacks
