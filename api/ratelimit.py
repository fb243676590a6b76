"""A limit of requests per client address per minute, shared by every process of the service.

The counts live where every process sees them: a small table in the store's own database on
PostgreSQL, a SQLite file beside the embedded store (``zhanyou.ratelimit.db``). Each request
adds one hit with one atomic upsert; the limit is a sliding window estimated from this
minute's hits and the last minute's, weighted by how much of it still lies in the window.

The client address is the connection's peer, or, when the peer is one of the configured
trusted proxies, the address it forwarded (``ZHANYOU_TRUSTED_PROXIES``; see ``api.app``):
an ``X-Forwarded-For`` sent by anyone else changes nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from api.problems import ApiProblem
from application.errors import StoreUnavailable
from application.settings import Settings
from application.setup_lock import setup_lock
from application.store_keys import side_file

WINDOW_SECONDS = 60
TABLE = "zhanyou_rate_hits"
_DDL = (
    "CREATE TABLE IF NOT EXISTS {table} (client TEXT NOT NULL, minute BIGINT NOT NULL, "
    "hits INTEGER NOT NULL, PRIMARY KEY (client, minute))"
)
_HIT = (
    "INSERT INTO {table} (client, minute, hits) VALUES (?, ?, 1) "
    "ON CONFLICT (client, minute) DO UPDATE SET hits = zhanyou_rate_hits.hits + 1 RETURNING hits"
)
_EARLIER = "SELECT hits FROM {table} WHERE client = ? AND minute = ?"
_FORGET = "DELETE FROM {table} WHERE minute < ?"


class HitStore(Protocol):
    def hit(self, client: str, minute: int, *, forget_before: int | None) -> tuple[int, int]:
        """Count one hit; (hits this minute, hits the minute before). Older minutes may go."""
        ...

    def close(self) -> None: ...


class SQLiteHits:
    """The counts in a SQLite file of their own beside the store; every process opens it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_DDL.format(table=TABLE))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def hit(self, client: str, minute: int, *, forget_before: int | None) -> tuple[int, int]:
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    if forget_before is not None:
                        db.execute(_FORGET.format(table=TABLE), (forget_before,))
                    (current,) = db.execute(_HIT.format(table=TABLE), (client, minute)).fetchone()
                    earlier = db.execute(_EARLIER.format(table=TABLE), (client, minute - 1)).fetchone()
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as error:
            raise StoreUnavailable("the rate-limit store is unreachable", f"{self.path}: {error}") from None
        return int(current), int(earlier[0]) if earlier else 0

    def close(self) -> None:
        """Nothing is held open between hits."""


class PostgresHits:
    """The counts in a table of the store's schema, through a small pool of its own."""

    def __init__(self, settings: Settings) -> None:
        schema = settings.database_schema or "public"
        self._table = sql.Identifier(schema, TABLE)
        self._pool = ConnectionPool(
            settings.database_url, min_size=1, max_size=4, kwargs={"autocommit": True}, timeout=5, open=True
        )
        with setup_lock(settings), self._pool.connection() as connection:  # concurrent DDL fails otherwise
            connection.execute(self._sql(_DDL))

    def _sql(self, statement: str) -> sql.Composed:
        return sql.SQL(statement.replace("{table}", "{t}").replace("?", "%s")).format(t=self._table)

    def hit(self, client: str, minute: int, *, forget_before: int | None) -> tuple[int, int]:
        try:
            with self._pool.connection() as connection, connection.transaction():
                if forget_before is not None:
                    connection.execute(self._sql(_FORGET), (forget_before,))
                row = connection.execute(self._sql(_HIT), (client, minute)).fetchone()
                earlier = connection.execute(self._sql(_EARLIER), (client, minute - 1)).fetchone()
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise StoreUnavailable("the rate-limit store is unreachable", str(error)) from None
        assert row is not None  # noqa: S101 - RETURNING always answers one row
        return int(row[0]), int(earlier[0]) if earlier else 0

    def close(self) -> None:
        self._pool.close()


def open_hits(settings: Settings) -> HitStore:
    if settings.is_postgres:
        return PostgresHits(settings)
    return SQLiteHits(side_file(settings, "ratelimit"))


class RateLimiter:
    def __init__(
        self,
        store: HitStore,
        per_minute: int,
        clock: Callable[[], float] = time.time,
        *,
        what: str = "self-registrations",
        scope: str = "",
    ) -> None:
        """``scope`` keeps this limit's counts apart from others' kept in the same store."""
        self._store = store
        self._limit = per_minute
        self._what = what
        self._scope = scope
        self._clock = clock
        self._last_minute = -1
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one request of ``client``; 429 when it is over the limit."""
        now = self._clock()
        minute = int(now // WINDOW_SECONDS)
        with self._lock:  # once a minute per process, minutes that no window reaches are dropped
            forget = minute - 1 if minute != self._last_minute else None
            self._last_minute = minute
        current, earlier = self._store.hit(self._scope + client, minute, forget_before=forget)
        still_in_window = 1 - (now % WINDOW_SECONDS) / WINDOW_SECONDS
        if earlier * still_in_window + current > self._limit:
            retry = max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1)
            raise ApiProblem(
                429,
                "rate_limited",
                f"rate_limited: at most {self._limit} {self._what} a minute from one address",
                {"Retry-After": str(retry)},
            )

    def close(self) -> None:
        self._store.close()
