"""Where views live: the eventsourcing library's tracking recorders, one per view, with portable SQL.

SQLite: the views of ``events.db`` live in the sibling file ``events.views.db``. SQLite lets
one writer at a time into a file; a sibling file keeps the projection worker from queueing
behind (and delaying) the commands that write events, and a views file can be deleted and
rebuilt without touching the event store. PostgreSQL: the views live in the event store's
schema, in tables prefixed ``view_``.

Each view has its own tracking table (``view_<name>_tracking``, one row per upstream
application), written in the same transaction as the view's rows by the library's
``_insert_tracking``: a position recorded twice raises ``IntegrityError`` and rolls the
rows back, so every event is applied exactly once.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteConnection, SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from application.settings import Settings
from application.store_policy import bounded
from domain.text import printable
from domain.text import storable as storable_text  # ``storable`` here makes a row fit
from projections.sealing import Sealer

Row = dict[str, Any]


def storable(params: Sequence[Any]) -> tuple[Any, ...]:
    """Parameters a view can store on both backends: text already in the log may hold a NUL
    (which PostgreSQL text refuses) or a lone surrogate (which no encoding takes); the view
    keeps a copy with those replaced by U+FFFD rather than stopping at the event."""
    return tuple(_storable(p) for p in params)


def _storable(value: Any) -> Any:
    # Every character ``printable`` replaces is unprintable: most text is spared its scan.
    if isinstance(value, str) and not value.isprintable():
        return printable(value)
    return value


def _storable_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` fit to store: the same dict when no value needs a replacement."""
    for value in values.values():
        if isinstance(value, str) and not value.isprintable():
            return {column: _storable(v) for column, v in values.items()}
    return values


def storable_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Each row made ``storable``: ``rows`` itself when none needs it, found by one scan of all
    their text joined, in C (a Python call per value was among the largest costs of a catch-up)."""
    if storable_text("".join(filter(str.__instancecheck__, chain.from_iterable(rows)))):
        return rows  # the usual case, several-line text too: one regex scan in C
    return [storable(row) for row in rows]


def views_path(settings: Settings) -> Path:
    """``data/zhanyou.db`` -> ``data/zhanyou.views.db``."""
    events = settings.sqlite_path
    return events.with_name(f"{events.stem}.views{events.suffix or '.db'}")


class Tx:
    """One transaction on the views: SQL with ``?`` placeholders on both backends.

    Row writes (``insert``, ``update``, ``write``, ``change_one``) name the row they touch.
    Inside ``pipeline()`` they are buffered: writes to different rows are independent, so
    they may be regrouped as long as each row sees its own writes in order (the n-th write
    of every row goes out in the n-th round). An ``update`` of a row whose last buffered
    write is an ``insert`` or ``update`` of it is folded into that write (its values win,
    its increments add up), so a row touched many times in a buffer is written once.
    Inserts go out as multi-row ``INSERT ... VALUES`` statements, the rest as one
    ``executemany`` per statement (on PostgreSQL in pipeline mode). Anything else (a read,
    an unnamed statement) first sends what is buffered. This is the one place where views'
    writes are batched.
    """

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres
        self._pipeline: Any = None
        self._writes: list[_Write | _Change] = []
        self._foldable: dict[Hashable, _Change] = {}  # a row's last buffered write, if structured
        self._checks: list[tuple[Any, int, str]] = []  # (cursor, rows it must change, statement)
        self._cursors: list[Any] = []  # closed once their results are in
        self.shredding = False

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """Row writes buffered; on PostgreSQL in pipeline mode (sent without waiting for each result)."""
        with self.cursor.connection.pipeline() if self.postgres else _buffering() as pipeline:
            self._pipeline = pipeline
            try:
                yield
                self.flush()  # nothing buffered is left behind
            finally:
                self._pipeline = None

    def discard(self) -> None:
        """Forget what is buffered and unchecked: the caller rolls back to a savepoint before it."""
        self._writes, self._checks = [], []
        self._foldable.clear()
        for cursor in self._cursors:
            cursor.close()
        self._cursors = []

    def shred(self) -> None:
        """What this transaction overwrites is zeroed in the file, and the write-ahead log emptied
        after the commit, so an erasure leaves no old copy behind (SQLite; PostgreSQL reclaims
        dead row versions by vacuum)."""
        if not self.postgres and not self.shredding:
            self.execute("PRAGMA secure_delete = ON")
            self.shredding = True

    def insert(self, table: str, values: dict[str, Any], *, row: Hashable) -> None:
        """Insert the new row ``row`` with ``values`` (column -> value) into ``table``."""
        change = _Change(table, dict(values), {}, {}, None)
        if self._pipeline is None:
            self.execute(change.insert_statement(1), tuple(change.values.values()))
        else:
            self._buffer(change, row)

    def update(
        self,
        table: str,
        values: dict[str, Any],
        key: dict[str, Any],
        what: str,
        *,
        row: Hashable,
        add: dict[str, int] | None = None,
    ) -> None:
        """Set ``values`` (and add ``add`` to numeric columns) of the one row of ``table`` that
        ``key`` picks; it must change exactly that row, checked now or by ``verify``."""
        change = _Change(table, dict(values), dict(add) if add else {}, key, what)
        if self._pipeline is not None:
            previous = self._foldable.get(row)
            if previous is None or not previous.fold(change):
                self._buffer(change, row)
        elif self.execute(change.update_statement(), change.update_params()) != 1:
            raise LookupError(what)

    def _buffer(self, change: _Change, row: Hashable) -> None:
        change.row = row
        self._writes.append(change)
        self._foldable[row] = change

    def write(self, statement: str, params: Sequence[Any], *, row: Hashable) -> None:
        """Insert, update or delete the one row ``row`` identifies (buffered when pipelined)."""
        if self._pipeline is not None:
            self._foldable.pop(row, None)  # what follows is not folded into what came before
            self._writes.append(_Write(statement, tuple(params), row, checked=False))
        else:
            self.execute(statement, params)

    def change_one(self, statement: str, params: Sequence[Any], what: str, *, row: Hashable) -> None:
        """A write that must change exactly one row: checked now, or by ``verify`` when pipelined."""
        if self._pipeline is not None:
            self._foldable.pop(row, None)
            self._writes.append(_Write(statement, tuple(params), row, checked=True))
        elif self.execute(statement, params) != 1:
            raise LookupError(what)

    def flush(self) -> None:
        """Send the buffered writes: per round, one multi-row insert per table and column set,
        one ``executemany`` per other statement."""
        writes, self._writes = self._writes, []
        self._foldable.clear()
        rounds: list[dict[Hashable, list[Any]]] = []
        seen: dict[Hashable, int] = {}
        for w in writes:
            n = seen[w.row] = seen.get(w.row, -1) + 1
            if n == len(rounds):
                rounds.append({})
            rounds[n].setdefault(w.group(), []).append(w)
        for groups in rounds:
            for group in groups.values():
                first = group[0]
                if isinstance(first, _Change) and first.is_insert:
                    self._send_inserts(group)
                elif isinstance(first, _Change):
                    self._send(
                        first.update_statement(),
                        storable_rows([c.update_params() for c in group]),
                        first.what,
                    )
                else:
                    self._send(
                        first.statement,
                        storable_rows([w.params for w in group]),
                        first.statement if first.checked else None,
                    )

    def _send_inserts(self, group: list[_Change]) -> None:
        """PostgreSQL: one statement per group, its rows as one JSON parameter typed by the table's
        row type (a statement of its own per row count would be parsed anew by the driver)."""
        first = group[0]
        if self.postgres:
            rows = json.dumps([_storable_values(change.values) for change in group], ensure_ascii=False)
            self._send(first.json_insert_statement(), [(rows,)], None)
            return
        # SQLite runs in this process: one prepared single-row insert per row costs it less than
        # building and compiling a multi-row statement.
        self._send(
            first.insert_statement(1),
            storable_rows([tuple(change.values.values()) for change in group]),
            None,
        )

    def _send(self, statement: str, rows: list[tuple[Any, ...]], what: str | None) -> None:
        cursor = self._raw().connection.cursor()
        self._cursors.append(cursor)
        if len(rows) == 1:
            cursor.execute(statement.replace("?", "%s") if self.postgres else statement, rows[0])
        else:
            cursor.executemany(statement.replace("?", "%s") if self.postgres else statement, rows)
        if what is not None:
            self._checks.append((cursor, len(rows), what))

    def verify(self) -> None:
        """Send what is buffered; raise ``LookupError`` when a checked write missed its row.

        In a pipeline a miss cannot be pinned to one event: the caller redoes the batch one
        statement at a time, which names it.
        """
        self.flush()
        if self._cursors and self.postgres and self._pipeline is not None:
            self._pipeline.sync()
        checks, self._checks = self._checks, []
        cursors, self._cursors = self._cursors, []
        missed = [
            (expected - c.rowcount, expected, what) for c, expected, what in checks if c.rowcount != expected
        ]
        for cursor in cursors:
            cursor.close()
        if missed:
            count, expected, what = missed[0]
            raise LookupError(f"{count} of {expected} writes missed their row: {what}")

    def _raw(self) -> Any:
        return self.cursor if self.postgres else self.cursor.sqlite_cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run a statement now (after any buffered writes); the number of rows it changed."""
        if self._writes:
            self.flush()
        if self.postgres:
            self.cursor.execute(statement.replace("?", "%s"), storable(params))
        else:
            self.cursor.execute(statement, storable(params))
        rowcount: int = self._raw().rowcount
        return rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self._writes:
            self.flush()
        if self.postgres:
            self.cursor.executemany(statement.replace("?", "%s"), storable_rows([tuple(r) for r in rows]))
        else:
            self.cursor.executemany(statement, storable_rows([tuple(r) for r in rows]))

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        self.execute(statement, params)
        return [dict(row) for row in self._raw().fetchall()]

    def fetchone(self, statement: str, params: Sequence[Any] = ()) -> Row | None:
        self.execute(statement, params)
        row = self._raw().fetchone()
        return None if row is None else dict(row)


@contextmanager
def _buffering() -> Iterator[object]:
    """SQLite has no pipeline: buffered writes go out as one ``executemany`` per statement."""
    yield object()


@dataclass(slots=True)
class _Write:
    statement: str
    params: tuple[Any, ...]
    row: Hashable  # the row it touches, e.g. ("roster", contestant id)
    checked: bool  # it must change exactly one row

    def group(self) -> Hashable:
        return (self.statement, self.checked)


@dataclass(slots=True)
class _Change:
    """A buffered insert of a row (``key`` empty) or checked update of one row by its key."""

    table: str
    values: dict[str, Any]  # insert: every column given; update: the columns set
    add: dict[str, int]  # update: column -> amount added to it
    key: dict[str, Any]  # update: column -> value picking the row
    what: str | None  # update: what it means when no row matches
    row: Hashable = None

    @property
    def is_insert(self) -> bool:
        return not self.key

    def fold(self, later: _Change) -> bool:
        """Take in ``later``, an update of the same row, as if it ran after this write; False when
        it cannot be folded (another table or key, or an amount added to a column an insert
        leaves out or sets to something other than a number)."""
        if later.table != self.table or (self.key and later.key != self.key):
            return False
        if not later.add:  # the usual update: values only
            if self.add:
                for column in later.values:
                    self.add.pop(column, None)
            self.values.update(later.values)
            return True
        counted = [column for column in later.add if self.is_insert or column in self.values]
        if not all(isinstance(self.values.get(column), int) for column in counted):
            return False
        for column, amount in later.add.items():
            if column in counted:
                self.values[column] += amount
            else:
                self.add[column] = self.add.get(column, 0) + amount
        for column in later.values:
            self.add.pop(column, None)
        self.values.update(later.values)
        return True

    def group(self) -> Hashable:
        return (self.table, tuple(self.values), tuple(self.add), tuple(self.key))

    def insert_statement(self, rows: int) -> str:
        one = "(" + ",".join("?" * len(self.values)) + ")"
        return f"INSERT INTO {self.table} ({', '.join(self.values)}) VALUES " + ",".join([one] * rows)

    def json_insert_statement(self) -> str:
        columns = ", ".join(self.values)
        return (
            f"INSERT INTO {self.table} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{self.table}, ?::json)"
        )

    def update_statement(self) -> str:
        sets = [f"{column} = ?" for column in self.values] + [f"{c} = {c} + ?" for c in self.add]
        where = " AND ".join(f"{column} = ?" for column in self.key)
        return f"UPDATE {self.table} SET {', '.join(sets)} WHERE {where}"

    def update_params(self) -> tuple[Any, ...]:
        return (*self.values.values(), *self.add.values(), *self.key.values())


_TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    "application_name TEXT, notification_id BIGINT, PRIMARY KEY (application_name))"
)


#: A views connection that writes batches, besides commits that do not wait for the disk: a
#: page cache of 32 MiB (with the default 2 MiB a batch reads back most pages it changes)
#: and a write-ahead log checkpointed every 40 MiB, not 4 (pages that every batch rewrites,
#: the ends of indexes and the tracking rows, are copied into the file once per checkpoint).
#: Together they cut a catch-up's file writes by a third and its reads by four fifths.
_BATCH_PRAGMAS = ("PRAGMA cache_size = -32768", "PRAGMA wal_autocheckpoint = 10000")


@contextmanager
def _sqlite_write(datastore: SQLiteDatastore, *, lazy: bool = False) -> Iterator[Tx]:
    """``BEGIN IMMEDIATE``: the write lock is taken first, so a read inside cannot go stale.

    ``lazy``: a view's batch (see ``SQLiteViewRecorder.transaction``).
    """
    with datastore.get_connection(commit=True) as connection:
        cursor: SQLiteCursor = connection.cursor()
        durable = _relax(connection, cursor) if lazy else None
        try:
            cursor.execute("BEGIN IMMEDIATE")
            tx = Tx(cursor, postgres=False)
            try:
                yield tx
            except BaseException:
                connection.rollback()
                raise
            else:
                connection.commit()
                if tx.shredding:
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    cursor.execute("PRAGMA secure_delete = OFF")  # the usual writes pay nothing for it
        finally:
            if durable is not None:  # the connection's other transactions wait for the disk again
                cursor.execute(f"PRAGMA synchronous = {durable}")
            cursor.sqlite_cursor.close()


def _relax(connection: SQLiteConnection, cursor: SQLiteCursor) -> int:
    """The connection set for a batch (SQLite takes ``synchronous`` only between transactions);
    the synchronous level it had, to restore after the commit."""
    durable = _durable.get(connection)
    if durable is None:
        cursor.execute("PRAGMA synchronous")
        durable = _durable[connection] = int(cursor.fetchone()[0])
        for pragma in _BATCH_PRAGMAS:
            cursor.execute(pragma)
    cursor.execute("PRAGMA synchronous = NORMAL")
    return durable


#: The synchronous level of each connection that has written a batch, as it was before.
_durable: weakref.WeakKeyDictionary[SQLiteConnection, int] = weakref.WeakKeyDictionary()


class SQLiteViewRecorder(SQLiteTrackingRecorder):
    """A view in the views file; its tracking table is its own, not the library's shared one."""

    postgres = False

    def __init__(self, datastore: SQLiteDatastore, *, tracking_table: str, ddl: Sequence[str]) -> None:
        self.tracking_table = tracking_table
        self.view_ddl = list(ddl)
        super().__init__(datastore)
        self.insert_tracking_statement = (
            f"INSERT INTO {tracking_table} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {tracking_table}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {tracking_table} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [_TRACKING_DDL.format(table=self.tracking_table), *self.view_ddl]

    @contextmanager
    def transaction(self, *, lazy: bool = False) -> Iterator[Tx]:
        """``lazy``: as on PostgreSQL, the commit does not wait for the disk; in WAL mode it is
        still atomic, and only the machine's crash can take it away (with its position)."""
        with _sqlite_write(self.datastore, lazy=lazy) as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as cursor:
            yield Tx(cursor, postgres=False)


class PostgresViewRecorder(PostgresTrackingRecorder):
    """A view in the event store's schema, tables prefixed ``view_``.

    Its calls are bounded by the caller's patience (``application.store_policy``), not by
    the library's fixed retry.
    """

    postgres = True

    def _pool_wait(self) -> float:
        return float(self.datastore.pool.timeout)

    def max_tracking_id(self, application_name: str) -> int | None:
        once = PostgresTrackingRecorder.max_tracking_id.__wrapped__
        found: int | None = bounded(lambda: once(self, application_name), pool_wait=self._pool_wait())
        return found

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        once = PostgresTrackingRecorder.has_tracking_id.__wrapped__
        found: bool = bounded(
            lambda: once(self, application_name, notification_id), pool_wait=self._pool_wait()
        )
        return found

    def __init__(self, datastore: PostgresDatastore, *, tracking_table: str, ddl: Sequence[str]) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table)
        self.tracking_table = f'"{datastore.schema}"."{tracking_table}"'
        self.view_ddl = list(ddl)

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in self.view_ddl:
                cursor.execute(statement)

    @contextmanager
    def transaction(self, *, lazy: bool = False) -> Iterator[Tx]:
        """``lazy``: the commit does not wait for its WAL to reach the disk (this transaction only).

        For a view's batch only: its rows and its position commit together, so a batch lost
        in a server crash takes its position with it and the view applies those events again
        from the log, which is written durably. Others see the commit at once as usual.
        """
        with self.datastore.transaction(commit=True) as cursor:
            if lazy:
                cursor.execute("SET LOCAL synchronous_commit = off")
            yield Tx(cursor, postgres=True)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.datastore.transaction(commit=False) as cursor:
            yield Tx(cursor, postgres=True)


class ViewDatabase:
    """The datastore the views share: a connection pool on the views file or the PostgreSQL schema.

    Without settings, a database in this process's memory of its own (``in_memory``): for views
    computed on demand and thrown away, such as the roster as it stood at an instant.
    """

    def __init__(self, settings: Settings | None, *, pool_size: int = 2) -> None:
        self.settings = settings
        if settings is None:
            # A name of its own and a shared cache: every pooled connection sees the same tables,
            # which live as long as this object does.
            name = f"file:zhanyou-scratch-{uuid4().hex}?mode=memory&cache=shared"
            self.datastore: Any = SQLiteDatastore(name, pool_size=pool_size, max_overflow=pool_size)
            self.factory: Any = None
            self.postgres = False
            self.schema = ""
            self.sealer = Sealer(None)  # nothing of it is ever at rest
            return
        env = dict(settings.eventsourcing_env())
        if settings.is_postgres:  # a few kept open; it grows for the API's view reads under load
            env |= {"POSTGRES_POOL_SIZE": str(pool_size), "POSTGRES_MAX_OVERFLOW": str(settings.pool_size)}
        else:
            path = views_path(settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            env["SQLITE_DBNAME"] = str(path)
        for key in ("CIPHER_TOPIC", "CIPHER_KEY", "COMPRESSOR_TOPIC"):
            env.pop(key, None)  # the views seal their personal columns themselves (``sealer``)
        self.factory = cast(Any, InfrastructureFactory.construct(Environment("ZhanyouViews", env)))
        self.datastore = self.factory.datastore
        self.postgres = settings.is_postgres
        self.schema = self.datastore.schema if self.postgres else ""
        self.sealer = Sealer.of(settings)

    @classmethod
    def in_memory(cls) -> ViewDatabase:
        return cls(None)

    @property
    def scratch(self) -> bool:
        """Whether the tables live in this process's memory only (no other process opens them)."""
        return self.settings is None

    def table(self, physical: str) -> str:
        """A table's name as SQL writes it (schema-qualified on PostgreSQL)."""
        return f'"{self.schema}"."{physical}"' if self.postgres else physical

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction on the views' datastore, outside any view."""
        if self.postgres:
            with self.datastore.transaction(commit=True) as cursor:
                yield Tx(cursor, postgres=True)
        else:
            with _sqlite_write(self.datastore) as tx:
                yield tx

    def recorder(self, *, tracking_table: str, ddl: Sequence[str]) -> ViewStore:
        recorder: ViewStore
        if self.postgres:
            recorder = PostgresViewRecorder(self.datastore, tracking_table=tracking_table, ddl=ddl)
        else:
            recorder = SQLiteViewRecorder(self.datastore, tracking_table=tracking_table, ddl=ddl)
        recorder.create_table()
        return recorder

    def close(self) -> None:
        if self.factory is not None:
            self.factory.close()
        else:
            self.datastore.close()


ViewStore = SQLiteViewRecorder | PostgresViewRecorder
