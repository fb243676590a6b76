"""Rebuild a view from the start of the log into fresh tables, then switch over when caught up.

The live view keeps serving (and a running worker keeps updating it) while the new
generation (tables suffixed ``__rebuild``) catches up. The switch
(``projections.generations.switch_in``) is one transaction on the views: it takes the
write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL locks the live tracking table first,
which a worker's batch also locks first, so they cannot deadlock), applies whatever
arrived meanwhile, drops the live tables and renames the new ones into place with their
indexes. A worker holding the old position notices the moved position inside its next
transaction and carries on from the new one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application

from application.settings import Settings
from projections import VIEW_CLASSES
from projections.base import REBUILD_SUFFIX, ViewBuilding, ViewProjection
from projections.batches import ProjectionStalled, apply_notifications
from projections.generations import switch_in
from projections.store import ViewDatabase

ProgressCallback = Callable[[int, int, int], None]  # (position, head, events applied so far)


@dataclass(frozen=True)
class RebuildResult:
    view: str
    events: int  # events of the view's topics applied
    position: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def rebuild(
    app: Application[Any],
    settings: Settings,
    name: str,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> RebuildResult:
    started = time.perf_counter()
    db = ViewDatabase(settings)
    try:
        live = VIEW_CLASSES[name](db)
        if live.building:
            raise ViewBuilding(name, live.generation_position())
        fresh = VIEW_CLASSES[name](db, suffix=REBUILD_SUFFIX)
        fresh.drop_tables()  # a rebuild interrupted earlier starts again from zero
        fresh = VIEW_CLASSES[name](db, suffix=REBUILD_SUFFIX)
        position, applied = 0, 0
        while True:
            head = int(app.recorder.max_notification_id() or 0)
            if position >= head:
                break
            progress = _step(app, fresh, position, head, batch_size)
            position, applied = progress[0], applied + progress[1]
            if on_progress is not None:
                on_progress(position, head, applied)
        applied += switch_in(app, fresh, batch_size)
        position = live.position(app.name)
        if on_progress is not None:
            on_progress(position, position, applied)
        return RebuildResult(name, applied, position, time.perf_counter() - started)
    finally:
        db.close()


def _step(
    app: Application[Any], view: ViewProjection, position: int, head: int, limit: int
) -> tuple[int, int]:
    progress = apply_notifications(app, view, position, head, limit)
    if progress.stalled is not None:
        raise progress.stalled
    return progress.position, progress.processed


__all__ = ["ProjectionStalled", "RebuildResult", "rebuild"]
