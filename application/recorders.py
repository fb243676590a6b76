"""Event store recorders that refuse a decision when its campaign changed after it was read.

A decision reads the campaign (its timeline and rule version) but does not save it. Saved
with ``unchanged=(campaign id, version)``, its events are inserted only if the campaign
has no later event, checked inside the insert's own transaction:

- PostgreSQL: after taking the events table's EXCLUSIVE lock, which every insert takes,
  so no amendment can commit between the check and the insert;
- SQLite: after the insert, when the transaction holds the database's write lock.

A moved campaign raises ``CampaignMoved`` (an ``IntegrityError``) and nothing is written;
the service then decides again on fresh state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.store_policy import bounded

UNCHANGED = "unchanged"


class CampaignMoved(IntegrityError):
    """The campaign changed after the decision read it."""


def _expected(kwargs: dict[str, Any]) -> tuple[UUID, int] | None:
    found: tuple[UUID, int] | None = kwargs.get(UNCHANGED)
    return found


_Base = PostgresApplicationRecorder


class PostgresCampaignRecorder(PostgresApplicationRecorder):
    """Also: every call bounded by the caller's patience (``store_policy``), not the library's retry."""

    def _pool_wait(self) -> float:
        return float(self.datastore.pool.timeout)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        once = _Base.insert_events.__wrapped__
        found: Sequence[int] | None = bounded(
            lambda: once(self, stored_events, **kwargs), pool_wait=self._pool_wait(), idempotent=False
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

    def max_notification_id(self) -> int | None:
        once = _Base.max_notification_id.__wrapped__
        found: int | None = bounded(lambda: once(self), pool_wait=self._pool_wait())
        return found

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        expected = _expected(kwargs)
        if expected is None:
            return
        self._lock_table(curs)  # taken again by the insert: a no-op then
        statement = SQL("SELECT 1 FROM {}.{} WHERE originator_id = %s AND originator_version > %s LIMIT 1")
        table = statement.format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        curs.execute(table, expected)
        if curs.fetchone() is not None:
            raise CampaignMoved(f"campaign {expected[0]} changed after version {expected[1]}")


class SQLiteCampaignRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
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
        return ids
