"""Which views are stopped at an event, on record beside the views, for every process to see.

The projection worker may run in another process than the API answering ``/readyz`` and
``/metrics``, so a stop is written to a table of the views' datastore (``view_stalls``),
not kept in memory only. It names the view, the notification it stopped before and the
kind of error (never the error's text, which may quote personal data).
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.store import ViewDatabase

TABLE = "view_stalls"


@dataclass(frozen=True)
class Stall:
    view: str
    notification_id: int
    error: str  # the exception's class name


class StallBoard:
    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.table = db.table(TABLE)
        with db.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(view TEXT PRIMARY KEY, notification_id BIGINT NOT NULL, error TEXT NOT NULL)"
            )

    def record(self, stall: Stall) -> None:
        with self.db.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE view = ?", (stall.view,))
            tx.execute(
                f"INSERT INTO {self.table} (view, notification_id, error) VALUES (?, ?, ?)",
                (stall.view, stall.notification_id, stall.error),
            )

    def clear(self, view: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(f"DELETE FROM {self.table} WHERE view = ?", (view,))

    def current(self) -> list[Stall]:
        with self.db.transaction() as tx:
            rows = tx.fetchall(f"SELECT view, notification_id, error FROM {self.table} ORDER BY view")
        return [Stall(r["view"], int(r["notification_id"]), r["error"]) for r in rows]
