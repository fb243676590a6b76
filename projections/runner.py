"""Keeps every view caught up with the notification log, in one background thread.

Polling everywhere: SQLite has no subscription, and on PostgreSQL LISTEN/NOTIFY can miss a
wake-up and would need a periodic poll anyway, so one code path polls both (every
``poll_seconds``, at once when ``wake()`` is called after a command). Each round reads the
log's head, then for each view the events of its topics up to the head, in batches: a batch
and the view's new position are written in one transaction. When no event of a view's
topics is left before the head, the view's position moves to the head, so ``wait(id)``
works for any notification id and lag is exact.

An event a view cannot process stops that view (the others go on): the view keeps the
position just before it, the log names the notification id, topic and error, and the view
is retried every ``retry_seconds`` from that same place, so it resumes once the cause is
fixed (or when the worker restarts with fixed code). Nothing is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from application.person_keys import SubjectMapper
from application.store_policy import patient
from projections.base import ViewProjection
from projections.stalls import Stall, StallBoard

log = logging.getLogger("zhanyou.projections")


class ProjectionStalled(Exception):
    """A view met an event it cannot process; it stays before that event until fixed."""

    def __init__(self, view: str, notification_id: int, topic: str, error: str) -> None:
        self.view = view
        self.notification_id = notification_id
        self.topic = topic
        self.error = error
        super().__init__(
            f"view {view} stopped at notification {notification_id} ({topic}): {error}; "
            f"it resumes from there once the cause is fixed"
        )


@dataclass(frozen=True)
class ViewStatus:
    name: str
    position: int
    head: int
    stalled: ProjectionStalled | None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


@dataclass(frozen=True)
class Progress:
    """What one catch-up step did."""

    processed: int  # events applied
    position: int
    caught_up: bool


@dataclass(frozen=True)
class Window:
    """The notifications of some topics after ``start`` up to ``end``, each decoded once.

    Views at the same position share one window: the log is read and every event decoded
    once per round, not once per view. An event that cannot be decoded is kept as its error.
    """

    start: int
    end: int
    caught_up: bool  # ``end`` is the head the window was read up to
    items: list[tuple[Notification, Any]]  # (notification, domain event or decoding error)


def read_window(app: Application[Any], topics: Sequence[str], position: int, head: int, limit: int) -> Window:
    """Up to ``limit`` notifications of ``topics`` after ``position``, up to ``head``, decoded."""
    notifications = app.recorder.select_notifications(
        start=position, limit=limit, stop=head, topics=topics, inclusive_of_start=False
    )
    if isinstance(app.mapper, SubjectMapper):
        app.mapper.prefetch(notifications)  # one query for the window's data keys
    items: list[tuple[Notification, Any]] = []
    for notification in notifications:
        try:
            items.append((notification, app.mapper.to_domain_event(notification)))
        except Exception as error:  # kept: it stalls the views that subscribe to it
            items.append((notification, _Undecodable(error)))
    if len(notifications) < limit:
        return Window(position, head, True, items)
    return Window(position, notifications[-1].id, False, items)


class _Undecodable:
    def __init__(self, error: Exception) -> None:
        self.error = error


def apply_notifications(
    app: Application[Any],
    projection: ViewProjection,
    position: int,
    head: int,
    limit: int,
    tx_factory: Callable[[], Any] | None = None,
) -> Progress:
    """Read, decode and apply one batch of one view (see ``apply_window``)."""
    window = read_window(app, projection.topics, position, head, limit)
    return apply_window(app, projection, window, tx_factory)


def apply_window(
    app: Application[Any],
    projection: ViewProjection,
    window: Window,
    tx_factory: Callable[[], Any] | None = None,
) -> Progress:
    """Apply the view's events of ``window`` in one transaction, guarded by the tracked position.

    The position is read again inside the write transaction: if another writer (a rebuild
    switching over, a second worker) moved it, nothing is written and the caller re-reads.
    On PostgreSQL the batch's statements are pipelined (no round trip per statement); when a
    pipelined batch fails, it is rolled back and redone statement by statement, which names
    the exact event at fault.
    """
    position, new_position, caught_up = window.start, window.end, window.caught_up
    wanted = projection.topic_set
    notifications = [n for n, _ in window.items if n.topic in wanted]
    decoded: list[tuple[int, Any]] = []
    failure: ProjectionStalled | None = None
    for notification, event in window.items:
        if notification.topic not in wanted:
            continue
        if isinstance(event, _Undecodable):  # stalls the view at this event
            failure = ProjectionStalled(
                projection.name, notification.id, notification.topic, _describe(event.error)
            )
            break
        decoded.append((notification.id, event))
    if failure is None and new_position <= position:
        return Progress(0, position, caught_up)
    batch = _Batch(app, projection, position, new_position, notifications, decoded, failure)
    if tx_factory is None and projection.view.postgres and failure is None:
        try:
            return batch.run(projection.view.transaction(), pipelined=True, caught_up=caught_up)
        except _PositionMoved:
            raise
        except Exception as error:  # redone below, one statement at a time, to find the event
            log.info(
                "view %s: a batch failed (%s); redoing it one statement at a time", projection.name, error
            )
    transaction = tx_factory() if tx_factory is not None else projection.view.transaction()
    return batch.run(transaction, pipelined=False, caught_up=caught_up)


class _Batch:
    def __init__(
        self,
        app: Application[Any],
        projection: ViewProjection,
        position: int,
        new_position: int,
        notifications: list[Notification],
        decoded: list[tuple[int, Any]],
        failure: ProjectionStalled | None,
    ) -> None:
        self.app, self.projection = app, projection
        self.position, self.new_position = position, new_position
        self.topics = {n.id: n.topic for n in notifications}
        self.decoded, self.failure = decoded, failure

    def stalled(self, notification_id: int, error: str) -> ProjectionStalled:
        return ProjectionStalled(self.projection.name, notification_id, self.topics[notification_id], error)

    def run(self, transaction: Any, *, pipelined: bool, caught_up: bool) -> Progress:
        projection, failure = self.projection, self.failure
        with transaction as tx:
            tracked = projection.position_in(tx, self.app.name)
            if tracked != self.position:
                raise _PositionMoved(tracked)
            applied = 0
            with tx.pipeline() if pipelined else contextlib.nullcontext():
                for notification_id, domain_event in self.decoded:
                    try:
                        projection.apply(tx, notification_id, domain_event)
                    except Exception as error:
                        failure = self.stalled(notification_id, _describe(error))
                        break
                    applied += 1
                if failure is None:
                    tx.verify()  # pipelined: a miss raises, and the batch is redone one by one
            if failure is not None:
                raise _FailedAt(failure, applied)
            projection.view._insert_tracking(tx.cursor, Tracking(self.app.name, self.new_position))
        return Progress(applied, self.new_position, caught_up)


class _PositionMoved(Exception):
    def __init__(self, position: int) -> None:
        self.position = position


class _FailedAt(Exception):
    def __init__(self, stalled: ProjectionStalled, applied: int) -> None:
        self.stalled = stalled
        self.applied = applied


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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
                    log.warning("projection round failed: %s", _describe(error))
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
            topics = sorted({topic for p in group for topic in p.topics})
            window = read_window(self.app, topics, position, head, self.batch_size)
            for projection in group:
                if self._stop.is_set():
                    return busy
                busy |= self._step(projection, window)
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
        return self._positions[name] < head

    def _step(self, projection: ViewProjection, window: Window) -> bool:
        name, position = projection.name, window.start
        try:
            progress = apply_window(self.app, projection, window)
        except _PositionMoved as moved:
            self._set_position(name, moved.position)
            return True
        except _FailedAt as failed:
            self._apply_prefix(projection, position, failed.stalled.notification_id)
            self._stall(projection, failed.stalled)
            return False
        except IntegrityError:
            self._set_position(name, projection.position(self.app.name))
            return True
        except ProjectionStalled as stalled:
            self._stall(projection, stalled)
            return False
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
            log.warning("could not update the record of stopped views: %s", _describe(error))

    def _apply_prefix(self, projection: ViewProjection, position: int, failing_id: int) -> None:
        """Commit the events before the failing one, so the view stops exactly there."""
        if failing_id - 1 <= position:
            return
        try:
            progress = apply_notifications(self.app, projection, position, failing_id - 1, self.batch_size)
        except Exception as error:
            log.warning(
                "view %s: could not apply the events before the failing one: %s", projection.name, error
            )
            return
        self._set_position(projection.name, progress.position)

    def _stall(self, projection: ViewProjection, stalled: ProjectionStalled) -> None:
        if projection.name not in self._stalled:
            log.error("%s", stalled)  # before waiters hear of it
        with self._changed:
            self._stalled[projection.name] = stalled
            self._failures[projection.name] = self._failures.get(projection.name, 0) + 1
            self._retry_at[projection.name] = time.monotonic() + self.retry_seconds
            self._changed.notify_all()
        if self.stalls is not None and not projection.suffix:  # a rebuild's generation is not live
            kind = stalled.error.split(":", 1)[0]
            self._on_record(lambda board: board.record(Stall(projection.name, stalled.notification_id, kind)))
            self._recorded.add(projection.name)

    def _set_position(self, name: str, position: int) -> None:
        with self._changed:
            self._positions[name] = position
            self._changed.notify_all()
