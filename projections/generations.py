"""A view whose live tables have another layout is built beside them, then switched in.

When a process opens a view whose recorded layout differs from its own (a new release),
it leaves the live tables as they are and builds its own layout's generation in tables
suffixed with the layout (``ViewProjection.generation_suffix``), from the start of the log.
A process of the older release keeps serving and updating the live tables meanwhile; this
process answers reads of the view with ``ViewBuilding`` (503) until the switch. Only the
active projections worker builds (one per store, by election); should two build at once,
the tracked position keeps each batch exactly-once, and the second switch finds the
generation already gone (renamed into place) and only follows it. ``zhanyou rebuild``
switches its generation in the same way.

The switch is one transaction: the tables are locked (live tracking first, as every batch
locks it, so a switch and a batch cannot deadlock), the last events are applied, the live
tables are dropped, the generation is renamed into their place with its indexes, and the
layout record is updated.
"""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.application import Application

from projections.base import ViewProjection, exists
from projections.batches import apply_notifications
from projections.store import Tx

log = logging.getLogger("zhanyou.projections")


def switch_in(app: Application[Any], view: ViewProjection, limit: int) -> int:
    """Catch the generation ``view`` is building (a new layout's, or a rebuild's) up to the
    head and make it the live one.

    Answers the number of events applied inside the switch. ``view`` reads and writes the
    live tables afterwards. A generation whose tracking table is gone was switched in by
    another process: ``view`` then only follows it.
    """
    live = {k: view.db.table(f"view_{k}") for k in view.tables}
    live_tracking = view.db.table(f"view_{view.name}_tracking")
    applied = 0
    with view.db.transaction() as tx:
        if tx.postgres:
            tables = [live_tracking, *live.values(), view.view.tracking_table, *view.t.values()]
            found = [t for t in tables if exists(tx, t)]
            tx.execute(f"LOCK TABLE {', '.join(found)} IN ACCESS EXCLUSIVE MODE")
        if not exists(tx, view.view.tracking_table):  # another process switched it in first
            switched_here = False
        else:
            position = view.position_in(tx, app.name)  # another worker may have moved it on
            head = int(app.recorder.max_notification_id() or 0)
            while position < head:
                progress = apply_notifications(app, view, position, head, limit, tx)
                if progress.stalled is not None:  # the whole switch is rolled back
                    raise progress.stalled
                position, applied = progress.position, applied + progress.processed
            for old in [*live.values(), live_tracking]:
                tx.execute(f"DROP TABLE IF EXISTS {old}")
            renames = {view.t[k]: f"view_{k}" for k in view.t}
            renames[view.view.tracking_table] = f"view_{view.name}_tracking"
            for new, target in renames.items():
                tx.execute(f"ALTER TABLE {new} RENAME TO {quote(tx, target)}")
            for statement in view.index_ddl(live):
                tx.execute(statement)
            view.record_layout(tx)
            switched_here = True
    view.adopt_live()  # after the commit: it opens the live tables on a connection of its own
    if switched_here:
        log.warning("view %s: this layout's tables were switched in at notification %d", view.name, position)
    return applied


def quote(tx: Tx, name: str) -> str:
    return f'"{name}"' if tx.postgres else name
