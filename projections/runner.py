"""Keeps every view caught up with the notification log, in one background thread.

Polling everywhere: SQLite has no subscription, and on PostgreSQL LISTEN/NOTIFY can miss a
wake-up and would need a periodic poll anyway, so one code path polls both (every
``poll_seconds``, at once when ``wake()`` is called after a command). Each round reads the
log's head, then for each view the events of its topics up to the head, in batches: a batch
and the view's new position are written in one transaction. When no event of a view's
topics is left before the head, the view's position moves to the head, so ``wait(id)``
works for any notification id and lag is exact.

An event a view cannot process stops that view (the others go on): the events before it
are committed with the position just before it, in the batch's one transaction
(``projections.batches``), the log names the notification id, topic and error, and the view
is retried every ``retry_seconds`` from that same place, so it resumes once the cause is
fixed (or when the worker restarts with fixed code). Nothing is skipped.

Windows are read in the same thread that writes them. A second thread reading the next
window ahead made catch-up slower on both backends (SQLite and psycopg let go of the GIL
for each row they write or wait for, and the reader then kept it for its switch interval).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from application.store_policy import patient
from projections.base import ViewProjection
from projections.batches import (
    Outcome,
    PositionMoved,
    ProjectionStalled,
    Window,
    apply_together,
    apply_window,
    describe,
    read_window,
)
from projections.generations import switch_in
from projections.stalls import Stall, StallBoard

log = logging.getLogger("zhanyou.projections")


@dataclass(frozen=True)
class ViewStatus:
    name: str
    position: int
    head: int
    stalled: ProjectionStalled | None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


class ProjectionRunner:
    """Runs every view in one background thread; ``wait`` gives read-your-writes."""

    def __init__(
        self,
        app: Application[Any],
        projections: Sequence[ViewProjection],
        *,
        poll_seconds: float = 0.2,
        batch_size: int = 500,
        retry_seconds: float = 5.0,
        stalls: StallBoard | None = None,
    ) -> None:
        self.app = app
        self.stalls = stalls  # where a stop is put on record for /readyz and /metrics
        self.projections = list(projections)
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._positions = {p.name: p.position(app.name) for p in self.projections}
        self._stalled: dict[str, ProjectionStalled] = {}
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}  # failed attempts per view, so wait() sees a fresh failure
        self._head = self._read_head()
        self.failure: BaseException | None = None
        self._recorded = {s.view for s in stalls.current()} if stalls is not None else set()

    # --- control -------------------------------------------------------------

    def start(self) -> ProjectionRunner:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="zhanyou-projections", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():  # else still in a batch, which it ends
                self._thread = None

    def __enter__(self) -> ProjectionRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wake(self) -> None:
        """Poll now (call after a command to cut read-your-writes latency)."""
        self._wake.set()

    # --- observing -----------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self._changed:
            return dict(self._positions)

    def status(self) -> list[ViewStatus]:
        with self._changed:
            return [
                ViewStatus(p.name, self._positions[p.name], self._head, self._stalled.get(p.name))
                for p in self.projections
            ]

    def changed(self, timeout: float) -> None:
        """Block until some view's position changes, or ``timeout`` seconds."""
        with self._changed:
            self._changed.wait(timeout)

    def lag(self) -> dict[str, int]:
        """Per view: the log's head minus the view's position, in notifications."""
        return {s.name: s.lag for s in self.status()}

    def wait(self, notification_id: int | None, timeout: float = 5.0, views: Sequence[str] = ()) -> None:
        """Block until the views (all, or those named) have processed ``notification_id``.

        A view stopped before it is retried at once; ``ProjectionStalled`` is raised when that
        attempt fails too, ``TimeoutError`` after ``timeout``.
        """
        if notification_id is None:
            return
        names = list(views) or [p.name for p in self.projections]
        deadline = time.monotonic() + timeout
        with self._changed:
            failures_before = dict(self._failures)
            for name in self._stalled:
                self._retry_at[name] = 0.0  # a stopped view is tried again at once
        self.wake()
        with self._changed:
            while True:
                behind = [n for n in names if self._positions[n] < notification_id]
                if not behind:
                    return
                for name in behind:
                    stalled = self._stalled.get(name)
                    tried_again = self._failures.get(name, 0) > failures_before.get(name, 0)
                    if stalled is not None and tried_again and stalled.notification_id <= notification_id:
                        raise stalled
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"views {', '.join(behind)} have not processed notification {notification_id} "
                        f"within {timeout} s (positions {[self._positions[n] for n in behind]})"
                    )
                self._changed.wait(min(remaining, 0.5))

    # --- work ----------------------------------------------------------------

    def _read_head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def _loop(self) -> None:
        with patient():  # a worker waits out a store outage; a request does not
            self._rounds()

    def _rounds(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                busy = self.run_once()
                failures = 0
            except Exception as error:  # the store is unreachable: keep the thread, retry with backoff
                failures += 1
                if failures == 1:
                    log.warning("projection round failed: %s", describe(error))
                self.failure = error
                self._stop.wait(min(self.poll_seconds * 2**failures, 5.0))
                continue
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def run_once(self) -> bool:
        """One round over every view: at most one batch each. True while more work is waiting.

        Views at the same position (all of them, usually) share one read of the log.
        """
        head = self._read_head()
        with self._changed:
            self._head = head
        together: dict[int, list[ViewProjection]] = {}
        for projection in self.projections:
            if self._due(projection, head):
                together.setdefault(self._positions[projection.name], []).append(projection)
        busy = False
        for position, group in sorted(together.items()):
            if self._stop.is_set():
                return busy
            topics = tuple(sorted({topic for p in group for topic in p.topics}))
            window = read_window(self.app, topics, position, head, self.batch_size)
            outcomes: dict[str, Outcome] = {}
            for views in _by_database(p for p in group if not p.building).values():
                outcomes |= apply_together(self.app, views, window)
            for projection in group:
                busy |= self._step(projection, window, outcomes.get(projection.name))
        return busy

    def catch_up(self, timeout: float = 600.0) -> None:
        """Process in this thread until every view is at the head (for commands and tests)."""
        deadline = time.monotonic() + timeout
        while self.run_once():
            if time.monotonic() > deadline:
                raise TimeoutError("catch-up did not finish")
        stalled = [s.stalled for s in self.status() if s.stalled is not None]
        if stalled:
            raise stalled[0]

    def _due(self, projection: ViewProjection, head: int) -> bool:
        name = projection.name
        if name in self._stalled and time.monotonic() < self._retry_at.get(name, 0):
            return False
        # A generation being built is due at the head too: it is switched in (or follows the
        # switch another worker made) once it has caught up.
        return self._positions[name] < head or projection.building

    def _step(self, projection: ViewProjection, window: Window, outcome: Outcome | None) -> bool:
        """What ``projection``'s batch of ``window`` came to (``outcome``; applied here when
        ``None``, as for a generation being built, which may be switched in after it)."""
        name = projection.name
        if outcome is None:
            if projection.building and projection.ready():  # switched in by another process
                self._set_position(name, projection.position(self.app.name))
                return True
            try:
                outcome = apply_window(self.app, projection, window)
            except (PositionMoved, IntegrityError) as moved:
                outcome = moved
        if isinstance(outcome, PositionMoved):
            self._set_position(name, outcome.position)
            return True
        if isinstance(outcome, IntegrityError):
            self._set_position(name, projection.position(self.app.name))
            return True
        progress = outcome
        if progress.stalled is not None:  # the events before it are in, the view waits there
            self._set_position(name, progress.position)
            self._stall(projection, progress.stalled)
            return False
        if projection.building and progress.caught_up:
            try:
                switch_in(self.app, projection, self.batch_size)
            except ProjectionStalled as stalled:  # met in the last events: it waits before them
                self._stall(projection, stalled)
                return False
            progress = replace(progress, position=projection.position(self.app.name))
        if not projection.indexed and (progress.caught_up or progress.position >= self._head):
            projection.create_indexes()
        if name in self._stalled:
            log.info("view %s resumed at notification %d", name, progress.position)
        with self._changed:
            self._stalled.pop(name, None)
        if name in self._recorded and self.stalls is not None:
            self._on_record(lambda board: board.clear(name))
            self._recorded.discard(name)
        self._set_position(name, progress.position)
        return not progress.caught_up

    def _on_record(self, change: Callable[[StallBoard], None]) -> None:
        if self.stalls is None:
            return
        try:
            change(self.stalls)
        except Exception as error:  # the views' store is down: the log still has the stop
            log.warning("could not update the record of stopped views: %s", describe(error))

    def _stall(self, projection: ViewProjection, stalled: ProjectionStalled) -> None:
        if projection.name not in self._stalled:
            log.error("%s", stalled)  # before waiters hear of it
        with self._changed:
            self._stalled[projection.name] = stalled
            self._failures[projection.name] = self._failures.get(projection.name, 0) + 1
            self._retry_at[projection.name] = time.monotonic() + self.retry_seconds
            self._changed.notify_all()
        if self.stalls is not None and (projection.building or not projection.suffix):  # not a rebuild's
            kind = stalled.error.split(":", 1)[0]
            self._on_record(lambda board: board.record(Stall(projection.name, stalled.notification_id, kind)))
            self._recorded.add(projection.name)

    def _set_position(self, name: str, position: int) -> None:
        with self._changed:
            self._positions[name] = position
            self._changed.notify_all()


def _by_database(projections: Iterable[ViewProjection]) -> dict[int, list[ViewProjection]]:
    """Views grouped by the database they live in: each group's batches share a transaction."""
    grouped: dict[int, list[ViewProjection]] = {}
    for projection in projections:
        grouped.setdefault(id(projection.db), []).append(projection)
    return grouped


__all__ = ["ProjectionRunner", "ProjectionStalled", "ViewStatus"]
