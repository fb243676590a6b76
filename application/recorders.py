"""Event store recorders that do a command's extra work inside its insert transaction.

- **Unchanged campaign.** A decision reads the campaign (its timeline and rule version)
  but does not save it. Saved with ``unchanged=(campaign id, version)``, its events are
  inserted only if the campaign has no later event, checked inside the insert's own
  transaction: on PostgreSQL after taking the events table's EXCLUSIVE lock, which every
  insert takes, so no amendment can commit between the check and the insert; on SQLite
  after the insert, when the transaction holds the database's write lock. A moved campaign
  raises ``CampaignMoved`` (an ``IntegrityError``) and nothing is written; the service then
  decides again on fresh state.
- **Remembered answer.** Saved with ``answer=StoredAnswer``, the answer row is written in
  the same transaction as the events (``application/answers.py``).
- **Hash chain.** Every inserted event gets its chain link (``ledger.links``) in the same
  transaction, under the same lock, so the chain's order is the notification log's order
  and an insert that rolls back leaves no link behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor, pq
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from application.answers import ANSWER, TABLE, AnswerKept, StoredAnswer
from application.limits import LIMIT_LOCKS
from application.person_keys import KEYS_TABLE, KeyRow, new_key_rows
from application.pool_check import check_pooled_connections_idly
from application.store_policy import CommitNeverSent, bounded
from ledger.appending import append_links, postgres_chained_insert
from ledger.links import StoredRow
from ledger.tables import LedgerTables, postgres_statements, sqlite_statements

UNCHANGED = "unchanged"


class LogRow(NamedTuple):
    """A notification as ``select_log`` gives it: what ``select_notifications`` gives, as a plain
    tuple (the library's frozen dataclass costs more to build than the row costs to read)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


_COLUMNS = "id TEXT PRIMARY KEY, username TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
_COLUMNS += "status INTEGER NOT NULL, body TEXT NOT NULL, subject TEXT"
KEYS = KEYS_TABLE
_KEY_COLUMNS = "subject TEXT PRIMARY KEY, stored {blob}, destroyed_at TEXT, wrapped_by TEXT"
#: Key tables made before rows named their master key get the column (its rows: the cipher key's).
_KEY_COLUMN_ADDED = "ALTER TABLE {table} ADD COLUMN wrapped_by TEXT"


class StateMoved(IntegrityError):
    """Something a decision read changed after it was read: the decision is taken again."""


class CampaignMoved(StateMoved):
    """The campaign changed after the decision read it."""


def _expected(kwargs: dict[str, Any]) -> tuple[UUID, int] | None:
    found: tuple[UUID, int] | None = kwargs.get(UNCHANGED)
    return found


def _row(answer: StoredAnswer) -> tuple[str, str, str, str, int, str, str | None]:
    body = json.dumps(answer.body, ensure_ascii=False)
    return (answer.id, answer.user, answer.key, answer.fingerprint, answer.status, body, answer.subject)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _answer(row: Sequence[Any]) -> StoredAnswer:
    return StoredAnswer(
        user=row[0], key=row[1], fingerprint=row[2], status=int(row[3]), body=json.loads(row[4])
    )


def _rows(ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> list[StoredRow]:
    rows = [
        StoredRow(nid, s.originator_id, s.originator_version, s.topic, s.state)
        for nid, s in zip(ids, stored_events, strict=True)
    ]
    return sorted(rows, key=lambda r: r.notification_id)


def _end(curs: Cursor[DictRow], statement: SQL) -> None:
    """COMMIT or ROLLBACK, kept out of psycopg's cache of prepared statements.

    psycopg drops every prepared statement when it sees a ROLLBACK succeed (it may have
    undone their objects); in a pipeline it does so one statement late, deallocating a
    statement it has just prepared. The insert's transaction changes no table's shape, so
    its rollback leaves them valid, and the connection keeps its planned insert.
    """
    conn = curs.connection
    threshold, conn.prepare_threshold = conn.prepare_threshold, None
    try:
        curs.execute(statement)
    finally:
        conn.prepare_threshold = threshold


def _answer_refused(kept: Cursor[DictRow]) -> bool:
    """Whether the answer's insert ran and kept nothing: another answer holds its key."""
    result = kept.pgresult
    return result is not None and result.status == pq.ExecStatus.TUPLES_OK and result.ntuples == 0


_SELECT = "SELECT username, idem_key, fingerprint, status, body FROM {table} WHERE id = {p}"


_Base = PostgresApplicationRecorder
_GENERIC_PLANS = SQL("SET LOCAL plan_cache_mode = force_generic_plan")
_BEGIN, _COMMIT, _ROLLBACK = SQL("BEGIN"), SQL("COMMIT"), SQL("ROLLBACK")


class PostgresCampaignRecorder(PostgresApplicationRecorder):
    """Also: every call bounded by the caller's patience (``store_policy``), not the library's retry,
    on connections checked without a round trip (``pool_check``)."""

    chains = True  # turned off only by bench/commands.py, to measure what the chain costs

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        check_pooled_connections_idly(datastore.pool)  # no pre-ping round trip per store call
        self._answers = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(TABLE))
        self._keys = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(KEYS))
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (" + _COLUMNS + ")").format(self._answers)
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (" + _KEY_COLUMNS.format(blob="BYTEA") + ")").format(
                self._keys
            )
        )
        self.sql_create_statements.append(
            SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                "table_schema = {} AND table_name = {} AND column_name = 'wrapped_by') THEN "
                "ALTER TABLE {} ADD COLUMN wrapped_by TEXT; END IF; END $$"
            ).format(Literal(datastore.schema), Literal(KEYS), self._keys)
        )
        self.ledger = LedgerTables(events_table_name)
        self.sql_create_statements.extend(postgres_statements(datastore.schema, self.ledger))
        chained = {
            "schema": datastore.schema,
            "events": events_table_name,
            "event_type": self.stored_event_type_name,
            "originator_id_type": datastore.originator_id_type,
        }
        self._chained_insert = postgres_chained_insert(**chained, chain=self.ledger.chain)
        self._plain_insert = postgres_chained_insert(**chained, chain=None)
        # A key is made for a new aggregate only, so a rival's key row means a rival's first
        # event too: that insert fails, the whole transaction with it. The key insert itself
        # must not fail first: in a pipeline, its error could surface as "pipeline aborted".
        self._insert_keys = SQL(
            "INSERT INTO {} (subject, stored, wrapped_by) "
            "SELECT * FROM unnest(%s::text[], %s::bytea[], %s::text[]) ON CONFLICT (subject) DO NOTHING"
        ).format(self._keys)
        self._keep_statement = SQL(
            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id"
        ).format(self._answers)

    @contextmanager
    def _statement(self) -> Iterator[Cursor[DictRow]]:
        """A cursor for one statement, atomic on its own on the pool's autocommit connection.

        One round trip, where a transaction block takes three, and no ROLLBACK: psycopg
        drops a connection's prepared statements (the insert's among them) at every one.
        """
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def _pool_wait(self) -> float:
        return float(self.datastore.pool.timeout)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        found: Sequence[int] | None = bounded(
            lambda: self._insert_once(stored_events, **kwargs), pool_wait=self._pool_wait(), idempotent=False
        )
        return found

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        once = _Base.select_events.__wrapped__
        found: Sequence[StoredEvent] = bounded(
            lambda: once(self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit),
            pool_wait=self._pool_wait(),
        )
        return found

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        once = _Base.select_notifications.__wrapped__
        found: Sequence[Notification] = bounded(
            lambda: once(self, start, limit, stop, topics, inclusive_of_start=inclusive_of_start),
            pool_wait=self._pool_wait(),
        )
        return found

    def select_log(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[LogRow]:
        """The notifications of ``topics`` after ``after`` up to ``stop``, in log order: a whole
        campaign's log read for a replay, tens of thousands of rows."""
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) "
            "ORDER BY notification_id LIMIT %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))

        def once() -> list[LogRow]:
            with self._statement() as curs:
                curs.execute(statement, (after, stop, list(topics), limit), prepare=True)
                return [
                    LogRow(
                        r["notification_id"],
                        r["originator_id"],
                        r["originator_version"],
                        r["topic"],
                        bytes(r["state"]),
                    )
                    for r in curs.fetchall()
                ]

        found: list[LogRow] = bounded(once, pool_wait=self._pool_wait())
        return found

    def max_notification_id(self) -> int | None:
        once = _Base.max_notification_id.__wrapped__
        found: int | None = bounded(lambda: once(self), pool_wait=self._pool_wait())
        return found

    def _insert_once(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One transaction in two round trips: everything up to the insert, then the commit.

        BEGIN, the limits' advisory locks, the table lock, the notification, the answer, the
        data keys and the insert (with the campaign check and the chain inside it) are sent
        together in one pipeline; what they found is judged after that first round trip, and
        the second sends COMMIT, or ROLLBACK for a refusal. The transaction is begun and ended
        by statements, not by psycopg's transaction block, which would add a synchronisation
        (a round trip) on entering and on leaving it.

        A connection that fails in the first round trip never committed anything: that
        failure is ``CommitNeverSent``, and ``bounded`` tries again on another connection.
        """
        if not stored_events:
            return None
        campaign, version = _expected(kwargs) or (None, None)
        answer: StoredAnswer | None = kwargs.get(ANSWER)
        locks: Sequence[int] = kwargs.get(LIMIT_LOCKS) or ()
        rows = [
            self.construct_pg_stored_event(s.originator_id, s.originator_version, s.topic, s.state)
            for s in stored_events
        ]
        made = new_key_rows()  # data keys of new aggregates, stored with their first events
        answered: list[DictRow] = []
        refusal: Exception | None = None
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.cursor() as curs, conn.cursor() as kept:
                    try:
                        curs.execute(_BEGIN, prepare=True)
                        self._lock_table(curs, locks)
                        self._notify_channel(curs)
                        # The insert is one prepared statement whose planning (its CTEs) costs more
                        # than running it: planned once per connection, not once per command.
                        curs.execute(_GENERIC_PLANS, prepare=True)
                        if answer is not None:
                            kept.execute(self._keep_statement, _row(answer), prepare=True)
                        if made:
                            subjects, stored, checks = (list(column) for column in zip(*made, strict=True))
                            curs.execute(self._insert_keys, (subjects, stored, checks))
                        statement = self._chained_insert if self.chains else self._plain_insert
                        values = {"events": rows, "campaign": campaign, "version": version}
                        curs.execute(statement, values, prepare=True)
                        pipeline.sync()
                        answered = curs.fetchall()
                    except psycopg.Error as error:  # raised after the pipeline, as the library does
                        refusal = error
                        if error.sqlstate is None:  # the connection failed, the COMMIT unsent
                            refusal = CommitNeverSent(str(error))
                            refusal.__cause__ = error
                    if answer is not None and _answer_refused(kept):
                        # Also before a conflict of the events: the kept answer is the reply.
                        refusal = AnswerKept(answer.key)
                    elif refusal is None and not answered and campaign is not None:
                        refusal = CampaignMoved(f"campaign {campaign} changed after version {version}")
                    if refusal is None:
                        _end(curs, _COMMIT)  # sent on leaving the pipeline
                    elif not conn.broken:
                        _end(curs, _ROLLBACK)
            except psycopg.Error:
                if refusal is None:  # the COMMIT failed: it may have committed, so not tried again
                    raise
            if refusal is not None:
                raise refusal
        found = {(r["originator_id"], r["originator_version"]): r["notification_id"] for r in answered}
        return [found[(s.originator_id, s.originator_version)] for s in stored_events]

    def _lock_table(self, curs: Cursor[DictRow], limits: Sequence[int] = ()) -> None:
        """The library's table lock, after the limits' advisory locks (``limits.py``).

        The same order in every transaction (advisory locks by pool, then the table) means
        no two inserts ever wait for each other in a cycle.
        """
        timeout, *table = self.lock_table_statements
        curs.execute(timeout, prepare=True)
        if limits:
            taking = SQL(", ").join(SQL("pg_advisory_xact_lock(%s)") for _ in limits)
            curs.execute(SQL("SELECT {}").format(taking), list(limits), prepare=True)
        for statement in table:
            curs.execute(statement, prepare=True)

    def _keep(self, curs: Cursor[DictRow], answer: StoredAnswer) -> None:
        curs.execute(self._keep_statement, _row(answer))
        if curs.fetchone() is None:
            raise AnswerKept(answer.key)

    def keep_answer(self, answer: StoredAnswer) -> None:
        """Keep an answer of its own (a refusal); ``AnswerKept`` when one is kept already."""
        with self._statement() as curs:
            self._keep(curs, answer)

    def select_answer(self, answer_id: str) -> StoredAnswer | None:
        with self._statement() as curs:
            curs.execute(SQL(_SELECT.format(table="{}", p="%s")).format(self._answers), (answer_id,))
            row = curs.fetchone()
        return None if row is None else _answer(list(row.values()))

    def forget_answers_about(self, subjects: Sequence[str]) -> None:
        with self._statement() as curs:
            curs.execute(
                SQL("DELETE FROM {} WHERE subject = ANY(%s)").format(self._answers), (list(subjects),)
            )

    # --- data keys (application/person_keys.py) ---------------------------------------

    def insert_person_key(self, subject: UUID, stored: bytes, wrapped_by: str) -> None:
        with self._statement() as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {} (subject, stored, wrapped_by) VALUES (%s, %s, %s) "
                    "ON CONFLICT (subject) DO NOTHING"
                ).format(self._keys),
                (str(subject), stored, wrapped_by),
            )

    def select_person_key(self, subject: UUID) -> tuple[bytes | None, str | None] | None:
        with self._statement() as curs:
            curs.execute(
                SQL("SELECT stored, wrapped_by FROM {} WHERE subject = %s").format(self._keys),
                (str(subject),),
            )
            row = curs.fetchone()
        if row is None:
            return None
        stored = row["stored"]
        return (None if stored is None else bytes(stored), row["wrapped_by"])

    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, tuple[bytes | None, str | None]]:
        with self._statement() as curs:
            curs.execute(
                SQL("SELECT subject, stored, wrapped_by FROM {} WHERE subject = ANY(%s)").format(self._keys),
                ([str(s) for s in subjects],),
            )
            rows = curs.fetchall()
        return {
            UUID(r["subject"]): (None if r["stored"] is None else bytes(r["stored"]), r["wrapped_by"])
            for r in rows
        }

    def destroy_person_keys(self, subjects: Sequence[UUID]) -> int:
        """Every key destroyed (a row is kept, empty, so no key is made again); how many there were."""
        names = sorted({str(s) for s in subjects})  # in one order: two erasures never deadlock
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "SELECT count(*) AS n FROM (SELECT 1 FROM {} WHERE subject = ANY(%s) "
                    "AND stored IS NOT NULL ORDER BY subject FOR UPDATE) AS held"
                ).format(self._keys),
                (names,),
            )
            row = curs.fetchone()
            curs.execute(
                SQL(
                    "INSERT INTO {} AS k (subject, stored, destroyed_at) "
                    "SELECT s, NULL, %s FROM unnest(%s::text[]) s "
                    "ON CONFLICT (subject) DO UPDATE SET stored = NULL, wrapped_by = NULL, "
                    "destroyed_at = EXCLUDED.destroyed_at WHERE k.stored IS NOT NULL"
                ).format(self._keys),
                (_now(), names),
            )
        return int(row["n"]) if row else 0

    def select_keys_to_rewrap(self, target: str, after: UUID | None, limit: int) -> list[KeyRow]:
        with self._statement() as curs:
            curs.execute(
                SQL(
                    "SELECT subject, stored, wrapped_by FROM {} WHERE stored IS NOT NULL "
                    "AND wrapped_by IS DISTINCT FROM %s AND subject > %s ORDER BY subject LIMIT %s"
                ).format(self._keys),
                (target, str(after or ""), limit),
            )
            rows = curs.fetchall()
        return [KeyRow(UUID(r["subject"]), bytes(r["stored"]), r["wrapped_by"]) for r in rows]

    def count_keys_to_rewrap(self, target: str) -> int:
        with self._statement() as curs:
            curs.execute(
                SQL(
                    "SELECT count(*) AS n FROM {} WHERE stored IS NOT NULL AND wrapped_by IS DISTINCT FROM %s"
                ).format(self._keys),
                (target,),
            )
            row = curs.fetchone()
        return int(row["n"]) if row else 0

    def rewrap_person_keys(self, rows: Sequence[tuple[KeyRow, bytes]], target: str) -> int:
        """Each row replaced only if it still holds what was read: an erasure meanwhile stays done."""
        if not rows:
            return 0
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "UPDATE {} AS k SET stored = v.new, wrapped_by = %s FROM "
                    "unnest(%s::text[], %s::bytea[], %s::bytea[]) AS v(subject, old, new) "
                    "WHERE k.subject = v.subject AND k.stored = v.old"
                ).format(self._keys),
                (
                    target,
                    [str(row.subject) for row, _ in rows],
                    [row.stored for row, _ in rows],
                    [new for _, new in rows],
                ),
            )
            return int(curs.rowcount)

    def master_key_checks(self) -> set[str | None]:
        with self._statement() as curs:
            curs.execute(
                SQL("SELECT DISTINCT wrapped_by FROM {} WHERE stored IS NOT NULL").format(self._keys)
            )
            return {r["wrapped_by"] for r in curs.fetchall()}

    def key_table_bytes(self) -> int:
        """What the key table takes on disk, indexes and TOAST included."""
        with self._statement() as curs:
            curs.execute("SELECT pg_total_relation_size(%s) AS n", (f'"{self.datastore.schema}"."{KEYS}"',))
            row = curs.fetchone()
        return int(row["n"]) if row else 0


class SQLiteCampaignRecorder(SQLiteApplicationRecorder):
    chains = True  # turned off only by bench/commands.py, to measure what the chain costs

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        self.ledger = LedgerTables(events_table_name)
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        keys = f"CREATE TABLE IF NOT EXISTS {KEYS} ({_KEY_COLUMNS.format(blob='BLOB')})"
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {TABLE} ({_COLUMNS})",
            keys,
            *sqlite_statements(self.ledger),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if made := new_key_rows():  # a row made meanwhile by another writer fails the insert
            c.executemany(f"INSERT INTO {KEYS} (subject, stored, wrapped_by) VALUES (?, ?, ?)", made)  # noqa: S608
        ids = super()._insert_events(c, stored_events, **kwargs)
        expected = _expected(kwargs)
        if expected is not None:
            campaign_id, version = expected
            c.execute(
                f"SELECT 1 FROM {self.events_table_name} "  # noqa: S608 - the library's own table name
                "WHERE originator_id = ? AND originator_version > ? LIMIT 1",
                (campaign_id.hex, version),
            )
            if c.fetchone() is not None:
                raise CampaignMoved(f"campaign {campaign_id} changed after version {version}")
        if (answer := kwargs.get(ANSWER)) is not None:
            self._keep(c, answer)
        if ids and self.chains:
            append_links(_SQLiteChain(c, self.events_table_name, self.ledger), _rows(ids, stored_events))
        return ids

    @staticmethod
    def _keep(c: SQLiteCursor, answer: StoredAnswer) -> None:
        c.execute(f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", _row(answer))  # noqa: S608
        if c.sqlite_cursor.rowcount != 1:
            raise AnswerKept(answer.key)

    def keep_answer(self, answer: StoredAnswer) -> None:
        """Keep an answer of its own (a refusal); ``AnswerKept`` when one is kept already."""
        with self.datastore.transaction(commit=True) as c:
            self._keep(c, answer)

    def select_answer(self, answer_id: str) -> StoredAnswer | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(_SELECT.format(table=TABLE, p="?"), (answer_id,))
            row = c.fetchone()
        return None if row is None else _answer(tuple(row))

    def forget_answers_about(self, subjects: Sequence[str]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany(f"DELETE FROM {TABLE} WHERE subject = ?", [(s,) for s in subjects])  # noqa: S608

    # --- data keys (application/person_keys.py) ---------------------------------------

    def insert_person_key(self, subject: UUID, stored: bytes, wrapped_by: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {KEYS} (subject, stored, wrapped_by) VALUES (?, ?, ?)",  # noqa: S608
                (str(subject), stored, wrapped_by),
            )

    def select_log(self, after: int, stop: int, topics: Sequence[str], limit: int) -> list[LogRow]:
        """The notifications of ``topics`` after ``after`` up to ``stop``, in log order: a whole
        campaign's log read for a replay, tens of thousands of rows."""
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {self.events_table_name} WHERE rowid > ? AND rowid <= ? "
            f"AND topic IN ({','.join('?' * len(topics))}) ORDER BY rowid LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, [after, stop, *topics, limit])
            return [LogRow(r[0], UUID(r[1]), r[2], r[3], r[4]) for r in c.fetchall()]

    def select_person_key(self, subject: UUID) -> tuple[bytes | None, str | None] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT stored, wrapped_by FROM {KEYS} WHERE subject = ?", (str(subject),))  # noqa: S608
            row = c.fetchone()
        return None if row is None else (None if row[0] is None else bytes(row[0]), row[1])

    def select_person_keys(self, subjects: Sequence[UUID]) -> dict[UUID, tuple[bytes | None, str | None]]:
        found: dict[UUID, tuple[bytes | None, str | None]] = {}
        names = [str(s) for s in subjects]
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(names), 500):  # within SQLite's limit of bound parameters
                chunk = names[start : start + 500]
                c.execute(
                    f"SELECT subject, stored, wrapped_by FROM {KEYS} "  # noqa: S608
                    f"WHERE subject IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[UUID(row[0])] = (None if row[1] is None else bytes(row[1]), row[2])
        return found

    def destroy_person_keys(self, subjects: Sequence[UUID]) -> int:
        """Every key overwritten in place (secure_delete), so no copy stays in the file's free pages,
        then the write-ahead log emptied into the file, so none stays in the log either; a row
        is kept, empty, so no key is made again. How many keys there were."""
        names = sorted({str(s) for s in subjects})
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")
            had = 0
            for name in names:
                c.execute(f"SELECT 1 FROM {KEYS} WHERE subject = ? AND stored IS NOT NULL", (name,))  # noqa: S608
                had += c.fetchone() is not None
            c.executemany(
                f"INSERT INTO {KEYS} (subject, stored, destroyed_at) VALUES (?, NULL, ?) "  # noqa: S608
                "ON CONFLICT (subject) DO UPDATE SET stored = NULL, wrapped_by = NULL, "
                f"destroyed_at = excluded.destroyed_at WHERE {KEYS}.stored IS NOT NULL",
                [(name, _now()) for name in names],
            )
        self.empty_log()
        return had

    def empty_log(self) -> bool:
        """Checkpoint and truncate the write-ahead log; False when readers kept part of it."""
        for _ in range(20):
            with self.datastore.get_connection(commit=True) as connection:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            if not busy:
                return True
            time.sleep(0.05)
        return False

    def select_keys_to_rewrap(self, target: str, after: UUID | None, limit: int) -> list[KeyRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT subject, stored, wrapped_by FROM {KEYS} WHERE stored IS NOT NULL "  # noqa: S608
                "AND wrapped_by IS NOT ? AND subject > ? ORDER BY subject LIMIT ?",
                (target, str(after or ""), limit),
            )
            rows = c.fetchall()
        return [KeyRow(UUID(r[0]), bytes(r[1]), r[2]) for r in rows]

    def count_keys_to_rewrap(self, target: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT count(*) FROM {KEYS} WHERE stored IS NOT NULL AND wrapped_by IS NOT ?",  # noqa: S608
                (target,),
            )
            return int(c.fetchone()[0])

    def rewrap_person_keys(self, rows: Sequence[tuple[KeyRow, bytes]], target: str) -> int:
        """Each row replaced only if it still holds what was read: an erasure meanwhile stays done.
        Overwritten in place, so the old wrapping leaves no copy in the file."""
        if not rows:
            return 0
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")
            done = 0
            for row, new in rows:
                c.execute(
                    f"UPDATE {KEYS} SET stored = ?, wrapped_by = ? WHERE subject = ? AND stored = ?",  # noqa: S608
                    (new, target, str(row.subject), row.stored),
                )
                done += c.sqlite_cursor.rowcount
        self.empty_log()  # the old wrappings leave the log too
        return done

    def master_key_checks(self) -> set[str | None]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT DISTINCT wrapped_by FROM {KEYS} WHERE stored IS NOT NULL")  # noqa: S608
            return {r[0] for r in c.fetchall()}

    def key_table_bytes(self) -> int:
        """What the key table and its primary-key index take in the file (the dbstat table)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ? OR name = ?",
                (KEYS, f"sqlite_autoindex_{KEYS}_1"),
            )
            return int(c.fetchone()[0])

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        c.execute(f"PRAGMA table_info({KEYS})")
        if "wrapped_by" not in {row[1] for row in c.fetchall()}:
            c.execute(_KEY_COLUMN_ADDED.format(table=KEYS))


class _SQLiteChain:
    def __init__(self, c: SQLiteCursor, events: str, ledger: LedgerTables) -> None:
        self.c = c
        self.events = events
        self.chain = ledger.chain

    def last_link(self) -> tuple[int, bytes] | None:
        self.c.execute(f"SELECT position, link FROM {self.chain} ORDER BY position DESC LIMIT 1")  # noqa: S608
        row = self.c.fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def has_events_before(self, notification_id: int) -> bool:
        self.c.execute(f"SELECT 1 FROM {self.events} WHERE rowid < ? LIMIT 1", (notification_id,))  # noqa: S608
        return self.c.fetchone() is not None

    def insert_links(self, links: Sequence[tuple[int, int, bytes]]) -> None:
        insert = f"INSERT INTO {self.chain} (notification_id, position, link) VALUES (?, ?, ?)"  # noqa: S608
        self.c.executemany(insert, links)
