"""Direct reads (and the few ledger writes) on the store's tables, bypassing the application.

Verification must trust nothing the application says, so it opens its own connection and
reads the events table and the ledger tables as they are, in one snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composed, Identifier

from application.settings import Settings
from ledger.links import StoredRow
from ledger.tables import POSTGRES_EVENTS, SQLITE_EVENTS, LedgerTables

BATCH = 5000


@dataclass(frozen=True, slots=True)
class StoredLink:
    notification_id: int
    position: int
    link: bytes


@dataclass(frozen=True, slots=True)
class SealRecord:
    position: int
    sealed_at: str
    head: bytes
    by: str


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """:ivar outcome: "OK" or the break's kind and detail."""

    finished_at: str
    ok: bool
    count: int
    seconds: float
    outcome: str


class LedgerStore(Protocol):
    """The tables as stored; iterations are in notification id (or position) order."""

    def event_count(self) -> int: ...

    def events(self, after: int = 0) -> Iterator[StoredRow]: ...

    def links(self, after: int = 0) -> Iterator[StoredLink]: ...

    def last_link(self) -> StoredLink | None: ...

    def seals(self) -> list[SealRecord]: ...

    def checkpoint_documents(self) -> list[str]: ...

    def add_checkpoint(self, position: int, document: str) -> None: ...

    def seal(self, by: str, at: str) -> tuple[int, bytes] | None:
        """Chain every event from the first under the write lock; None when already chained."""


def _uuid_or_text(value: str) -> UUID | str:
    try:
        return UUID(hex=value)
    except ValueError:
        return value


class SQLiteLedger:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN")  # one read snapshot for everything read
        self.tables = LedgerTables(SQLITE_EVENTS)

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()

    def event_count(self) -> int:
        row = self.connection.execute(f"SELECT count(*) FROM {self.tables.events}").fetchone()  # noqa: S608
        return int(row[0])

    def events(self, after: int = 0) -> Iterator[StoredRow]:
        cursor = self.connection.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608 - our table
            f"FROM {self.tables.events} WHERE rowid > ? ORDER BY rowid",
            (after,),
        )
        while batch := cursor.fetchmany(BATCH):
            for nid, oid, version, topic, state in batch:
                yield StoredRow(nid, _uuid_or_text(oid), version, topic, bytes(state))

    def links(self, after: int = 0) -> Iterator[StoredLink]:
        cursor = self.connection.execute(
            f"SELECT notification_id, position, link FROM {self.tables.chain} "  # noqa: S608
            "WHERE notification_id > ? ORDER BY notification_id",
            (after,),
        )
        while batch := cursor.fetchmany(BATCH):
            for nid, position, link in batch:
                yield StoredLink(nid, position, bytes(link))

    def last_link(self) -> StoredLink | None:
        row = self.connection.execute(
            f"SELECT notification_id, position, link FROM {self.tables.chain} ORDER BY position DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        return None if row is None else StoredLink(row[0], row[1], bytes(row[2]))

    def seals(self) -> list[SealRecord]:
        rows = self.connection.execute(
            f"SELECT position, sealed_at, head, by FROM {self.tables.seals} ORDER BY position"  # noqa: S608
        )
        return [SealRecord(p, s, bytes(h), b) for p, s, h, b in rows]

    def checkpoint_documents(self) -> list[str]:
        rows = self.connection.execute(f"SELECT document FROM {self.tables.checkpoints} ORDER BY id")  # noqa: S608
        return [str(r[0]) for r in rows]

    def add_checkpoint(self, position: int, document: str) -> None:
        self.connection.rollback()
        with _sqlite_write(self.connection):
            self.connection.execute(
                f"INSERT INTO {self.tables.checkpoints} (position, document) VALUES (?, ?)",  # noqa: S608
                (position, document),
            )
        self.connection.execute("BEGIN")

    def record_verification(self, record: VerificationRecord) -> None:
        self.connection.rollback()
        with _sqlite_write(self.connection):
            self.connection.execute(
                f"INSERT INTO {self.tables.verifications} "  # noqa: S608
                "(finished_at, ok, count, seconds, outcome) VALUES (?, ?, ?, ?, ?)",
                (record.finished_at, int(record.ok), record.count, record.seconds, record.outcome),
            )
        self.connection.execute("BEGIN")

    def last_verification(self) -> VerificationRecord | None:
        row = self.connection.execute(
            f"SELECT finished_at, ok, count, seconds, outcome FROM {self.tables.verifications} "  # noqa: S608
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else VerificationRecord(row[0], bool(row[1]), row[2], row[3], row[4])

    def seal(self, by: str, at: str) -> tuple[int, bytes] | None:
        from ledger.sealing import seal_rows

        self.connection.rollback()
        try:
            with _sqlite_write(self.connection):
                if self.connection.execute(f"SELECT 1 FROM {self.tables.chain} LIMIT 1").fetchone():  # noqa: S608
                    return None

                def write(links: Sequence[tuple[int, int, bytes]]) -> None:
                    self.connection.executemany(
                        f"INSERT INTO {self.tables.chain} (notification_id, position, link) VALUES (?, ?, ?)",  # noqa: S608
                        links,
                    )

                count, head = seal_rows(self.events(), write)
                self.connection.execute(
                    f"INSERT INTO {self.tables.seals} (position, sealed_at, head, by) VALUES (?, ?, ?, ?)",  # noqa: S608
                    (count, at, head, by),
                )
                return count, head
        finally:
            self.connection.execute("BEGIN")


@contextmanager
def _sqlite_write(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")  # the write lock, as the recorder's insert holds it
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


class PostgresLedger:
    def __init__(self, dsn: str, schema: str) -> None:
        self.connection = psycopg.connect(dsn, connect_timeout=5)
        # Every read of one verification sees one snapshot of the tables.
        self.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.schema = Identifier(schema)
        self.tables = LedgerTables(POSTGRES_EVENTS)
        self._cursors = 0

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()

    def _table(self, name: str) -> Composed:
        return SQL("{}.{}").format(self.schema, Identifier(name))

    def _stream(self, statement: Composed, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        self._cursors += 1
        with self.connection.cursor(name=f"ledger_{self._cursors}", binary=True) as cursor:
            cursor.execute(statement, params)
            while batch := cursor.fetchmany(BATCH):
                yield from batch

    def event_count(self) -> int:
        row = self.connection.execute(
            SQL("SELECT count(*) FROM {}").format(self._table(self.tables.events))
        ).fetchone()
        return int(row[0]) if row else 0

    def events(self, after: int = 0) -> Iterator[StoredRow]:
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id"
        ).format(self._table(self.tables.events))
        for nid, oid, version, topic, state in self._stream(statement, (after,)):
            yield StoredRow(int(nid), oid, int(version), str(topic), bytes(state))

    def links(self, after: int = 0) -> Iterator[StoredLink]:
        statement = SQL(
            "SELECT notification_id, position, link FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id"
        ).format(self._table(self.tables.chain))
        for nid, position, link in self._stream(statement, (after,)):
            yield StoredLink(int(nid), int(position), bytes(link))

    def last_link(self) -> StoredLink | None:
        statement = SQL("SELECT notification_id, position, link FROM {} ORDER BY position DESC LIMIT 1")
        row = self.connection.execute(statement.format(self._table(self.tables.chain))).fetchone()
        return None if row is None else StoredLink(row[0], row[1], bytes(row[2]))

    def seals(self) -> list[SealRecord]:
        statement = SQL("SELECT position, sealed_at, head, by FROM {} ORDER BY position")
        rows = self.connection.execute(statement.format(self._table(self.tables.seals))).fetchall()
        return [SealRecord(p, s, bytes(h), b) for p, s, h, b in rows]

    def checkpoint_documents(self) -> list[str]:
        statement = SQL("SELECT document FROM {} ORDER BY id").format(self._table(self.tables.checkpoints))
        return [str(r[0]) for r in self.connection.execute(statement).fetchall()]

    def add_checkpoint(self, position: int, document: str) -> None:
        self.connection.rollback()
        statement = SQL("INSERT INTO {} (position, document) VALUES (%s, %s)")
        self.connection.execute(statement.format(self._table(self.tables.checkpoints)), (position, document))
        self.connection.commit()

    def record_verification(self, record: VerificationRecord) -> None:
        self.connection.rollback()
        statement = SQL(
            "INSERT INTO {} (finished_at, ok, count, seconds, outcome) VALUES (%s, %s, %s, %s, %s)"
        )
        self.connection.execute(
            statement.format(self._table(self.tables.verifications)),
            (record.finished_at, record.ok, record.count, record.seconds, record.outcome),
        )
        self.connection.commit()

    def last_verification(self) -> VerificationRecord | None:
        statement = SQL("SELECT finished_at, ok, count, seconds, outcome FROM {} ORDER BY id DESC LIMIT 1")
        row = self.connection.execute(statement.format(self._table(self.tables.verifications))).fetchone()
        return None if row is None else VerificationRecord(row[0], bool(row[1]), row[2], row[3], row[4])

    def seal(self, by: str, at: str) -> tuple[int, bytes] | None:
        from ledger.sealing import seal_rows

        self.connection.rollback()
        self.connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        try:
            # The insert's own lock: no event can be stored (and chained) while sealing.
            self.connection.execute(
                SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(self._table(self.tables.events))
            )
            chain = self._table(self.tables.chain)
            if self.connection.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(chain)).fetchone():
                self.connection.rollback()
                return None
            insert = SQL(
                "INSERT INTO {} (notification_id, position, link) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[])"
            ).format(chain)

            def write(links: Sequence[tuple[int, int, bytes]]) -> None:
                ids, positions, hashes = zip(*links, strict=True)
                self.connection.execute(insert, (list(ids), list(positions), list(hashes)))

            count, head = seal_rows(self.events(), write)
            self.connection.execute(
                SQL("INSERT INTO {} (position, sealed_at, head, by) VALUES (%s, %s, %s, %s)").format(
                    self._table(self.tables.seals)
                ),
                (count, at, head, by),
            )
            self.connection.commit()
            return count, head
        except BaseException:
            self.connection.rollback()
            raise
        finally:
            self.connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ


@contextmanager
def open_ledger(settings: Settings) -> Iterator[SQLiteLedger | PostgresLedger]:
    """The store's tables over a connection of our own, for reading them as they are."""
    ledger: SQLiteLedger | PostgresLedger
    if settings.is_postgres:
        ledger = PostgresLedger(settings.database_url, settings.database_schema or "public")
    else:
        if not settings.sqlite_path.is_file():  # never create an empty store by reading one
            raise FileNotFoundError(f"no SQLite store at {settings.sqlite_path}")
        ledger = SQLiteLedger(str(settings.sqlite_path))
    try:
        yield ledger
    finally:
        ledger.close()
