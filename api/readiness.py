"""Is this process ready for traffic? The store takes a write, no view is stalled or being built.

The probe runs on two threads of its own, never on the request thread pool, and the
route waits for it at most ``PROBE_SECONDS``: a store that hangs, or a pool that is used
up, makes ``/readyz`` answer 503 quickly instead of waiting with everything else.

"Takes a write" is tested by writing: one row of ``zhanyou_readiness`` is upserted on a
short-lived connection of its own (PostgreSQL: with statement and lock timeouts), and on
SQLite in the views file too. A read-only file, a full disk, a read-only replica or a
lost permission fail it.

A view is being built when its live tables have another release's layout: this process
builds its own beside them (``projections.generations``) and serves none of it until then.
A view is stalled when the active runner (in this process) stopped it at an event, or,
seen from a process that is not running the views, when it is behind the log and has not
moved for ``STALL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg import sql

from application.settings import Settings
from node import Node
from projections.store import views_path

PROBE_SECONDS = 1.5
STALL_SECONDS = 30.0
_TABLE = "zhanyou_readiness"


@dataclass(frozen=True)
class Verdict:
    """Ready or not, and why not.

    :ivar problem: why not ready, naming the store or the view: what anyone may read.
    :ivar detail: the same with the store's address and the driver's words, for the log and
        for an organiser who asks (None when the problem says it all).
    """

    ready: bool
    last_notification_id: int | None
    problem: str | None
    detail: str | None = None


class Readiness:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="zhanyou-readyz")
        self._seen: dict[str, tuple[int, float]] = {}  # view -> (position, since when unchanged)

    async def check(self) -> Verdict:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._executor, self._probe), PROBE_SECONDS)
        except TimeoutError:
            problem = f"the event store did not take a write within {PROBE_SECONDS} s"
            return Verdict(
                False,
                None,
                problem,
                f"{problem} ({self.node.settings.describe_store()})",
            )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _probe(self) -> Verdict:
        settings = self.node.settings
        try:
            head = write_probe(settings, self._events_table())
        except (psycopg.Error, sqlite3.Error, OSError) as error:
            said = " ".join(str(error).split()) or type(error).__name__
            return Verdict(
                False,
                None,
                "the event store cannot take a write",
                f"the event store ({settings.describe_store()}) cannot take a write: {said}",
            )
        try:
            stalled = self._building(head) or self._stalled(head)
        except Exception as error:  # the views' store did not answer in time
            said = " ".join(f"{type(error).__name__}: {error}".split())
            return Verdict(False, head, "the views cannot be read", f"the views cannot be read: {said}")
        if stalled:
            return Verdict(False, head, *stalled)
        return Verdict(True, head, None)

    def _events_table(self) -> str:
        recorder = self.node.service.recorder
        assert isinstance(recorder, SQLiteApplicationRecorder | PostgresApplicationRecorder)  # noqa: S101
        return recorder.events_table_name

    def _building(self, head: int) -> tuple[str, None] | None:
        """A view whose tables of this release's layout are still being built is not served."""
        for view in self.node.views.all:
            if not view.ready():
                return (
                    f"view {view.name} is being built in this release's table layout (at notification "
                    f"{view.generation_position()} of {head}); its reads answer 503 until it is switched in"
                ), None
        return None

    def _stalled(self, head: int) -> tuple[str, str | None] | None:
        """(what anyone may read, the stop in the runner's words) of a stalled view, or None."""
        runner = self.node.projection_runner
        if runner is not None:
            for status in runner.status():
                if status.stalled is not None:
                    stop = status.stalled
                    problem = f"view {status.name} is stalled before notification {stop.notification_id}"
                    return problem, f"view {status.name} is stalled: {stop}"
            return None
        now = time.monotonic()
        for view in self.node.views.all:
            position = view.position(self.node.service.name)
            before = self._seen.get(view.name)
            if before is None or before[0] != position or position >= head:
                self._seen[view.name] = (position, now)
                continue
            if now - before[1] >= STALL_SECONDS:
                return (
                    f"view {view.name} is stalled at notification {position} of {head}: it has not moved "
                    f"for {now - before[1]:.0f} s (is a projections worker running?)"
                ), None
        return None


def write_probe(settings: Settings, events_table: str) -> int:
    """Write one row where the data lives; answer the log's head. Raises when it cannot."""
    if settings.is_postgres:
        return _postgres_probe(settings, events_table)
    head = _sqlite_probe(settings.sqlite_path, events_table)
    _sqlite_probe(views_path(settings), None)
    return head


def _postgres_probe(settings: Settings, events_table: str) -> int:
    schema = sql.Identifier(settings.database_schema or "public")
    with psycopg.connect(settings.database_url, connect_timeout=1, autocommit=True) as connection:
        connection.execute("SET statement_timeout = 1000")
        connection.execute("SET lock_timeout = 1000")
        connection.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} (id INT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)").format(
                schema, sql.Identifier(_TABLE)
            )
        )
        connection.execute(
            sql.SQL(
                "INSERT INTO {}.{} VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at"
            ).format(schema, sql.Identifier(_TABLE))
        )
        row = connection.execute(
            sql.SQL("SELECT max(notification_id) FROM {}.{}").format(schema, sql.Identifier(events_table))
        ).fetchone()
    return int(row[0] or 0) if row else 0


def _sqlite_probe(path: Path, events_table: str | None) -> int:
    if not path.exists():
        raise OSError(f"{path} does not exist")
    connection = sqlite3.connect(path, timeout=1, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (id INTEGER PRIMARY KEY, at REAL NOT NULL)")
        connection.execute(f"INSERT OR REPLACE INTO {_TABLE} VALUES (1, ?)", (time.time(),))  # noqa: S608
        connection.execute("COMMIT")
        if events_table is None:
            return 0
        row = connection.execute(f"SELECT max(rowid) FROM {events_table}").fetchone()  # noqa: S608
        return int(row[0] or 0) if row else 0
    finally:
        connection.close()
