"""One batch of one view: its events and its new position, written in one transaction (or in
a savepoint of the transaction that the batches of the views at one position share,
``apply_together``).

A batch first runs fast: its row writes are buffered, a row's updates folded into its
earlier write, and sent a few statements per table (``Tx.pipeline``; on PostgreSQL in
pipeline mode, so a batch of a thousand events costs a few round trips instead of
thousands). A batch that fails this way cannot name the event at fault; it is rolled back
and redone once, in one new transaction (or back to its savepoint), with a savepoint around
each event and each statement sent as it comes. When an event fails there, its savepoint is rolled back, the
events before it are committed with the tracked position just before it, and the view stops
there (``Progress.stalled``): nothing after it is written, nothing before it is lost.
Savepoints are kept out of the fast path: around every event they cost SQLite about 40% of
its catch-up rate, and on PostgreSQL the redo's statement-by-statement pace is about a fifth
of the pipelined one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Tracking

from application.person_keys import SubjectMapper
from application.replay_decoding import Decoding
from projections.base import EventText, ViewProjection
from projections.store import Tx

log = logging.getLogger("zhanyou.projections")
#: Events whose buffered writes go out together in a batch's fast path: sent while the batch is
#: still being applied, so the database works in parallel with this process.
SEND_EVERY = 100


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
class Progress:
    """What one catch-up step did."""

    processed: int  # events applied
    position: int
    caught_up: bool
    stalled: ProjectionStalled | None = None  # the event it stopped before, ``position`` just before it


@dataclass
class Window:
    """The notifications of some topics after ``start`` up to ``end``, each decoded once.

    Views at the same position share one window: the log is read and every event decoded
    once per round, not once per view, and each event's ``EventText`` made once for every view
    (``prepared``). An event that cannot be decoded is kept as its error.
    """

    start: int
    end: int
    caught_up: bool  # ``end`` is the head the window was read up to
    items: list[tuple[Notification, Any]]  # (notification, domain event or decoding error)
    _prepared: list[tuple[Notification, Any, EventText | None]] | None = field(default=None, compare=False)

    def prepared(self) -> list[tuple[Notification, Any, EventText | None]]:
        """Each item with its event's text (``None`` for an event that could not be decoded)."""
        if self._prepared is None:
            self._prepared = [
                (n, e, None if isinstance(e, Undecodable) else EventText(e)) for n, e in self.items
            ]
        return self._prepared


class PositionMoved(Exception):
    """Another writer (a second worker, a switch-over) moved the tracked position."""

    def __init__(self, position: int) -> None:
        self.position = position


class Undecodable:
    def __init__(self, error: Exception) -> None:
        self.error = error


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def read_window(app: Application[Any], topics: Sequence[str], position: int, head: int, limit: int) -> Window:
    """Up to ``limit`` notifications of ``topics`` after ``position``, up to ``head``, decoded."""
    notifications = app.recorder.select_notifications(
        start=position, limit=limit, stop=head, topics=topics, inclusive_of_start=False
    )
    mapper = app.mapper
    decode: Callable[[Notification], Any] = mapper.to_domain_event
    if isinstance(mapper, SubjectMapper):
        mapper.prefetch(notifications)  # one query for the window's data keys
        if isinstance(mapper.transcoder, JSONTranscoder):
            # As the mapper decodes, for less: the window's actors, decisions and ids revived once.
            decode = Decoding(mapper, None)
    items: list[tuple[Notification, Any]] = []
    for notification in notifications:
        try:
            items.append((notification, decode(notification)))
        except Exception as error:  # kept: it stalls the views that subscribe to it
            items.append((notification, Undecodable(error)))
    if len(notifications) < limit:
        return Window(position, head, True, items)
    return Window(position, notifications[-1].id, False, items)


def apply_notifications(
    app: Application[Any],
    projection: ViewProjection,
    position: int,
    head: int,
    limit: int,
    tx: Tx | None = None,
) -> Progress:
    """Read, decode and apply one batch of one view (see ``apply_window``)."""
    window = read_window(app, projection.topics, position, head, limit)
    return apply_window(app, projection, window, tx)


def apply_window(
    app: Application[Any], projection: ViewProjection, window: Window, tx: Tx | None = None
) -> Progress:
    """Apply the view's events of ``window`` and its new position in one transaction.

    The position is read again inside the write transaction: if another writer moved it,
    nothing is written and ``PositionMoved`` says where it is. Given ``tx`` (a switch-over's
    transaction), the batch runs inside it, event by event.
    """
    batch = _Batch(app, projection, window)
    if batch.undecodable is None and window.end <= window.start:
        return Progress(0, window.start, window.caught_up)
    if tx is not None:
        return batch.event_by_event(tx)
    if batch.undecodable is None:
        try:
            with projection.view.transaction(lazy=True) as fast:
                return batch.fast(fast)
        except PositionMoved:
            raise
        except Exception as error:  # redone below, event by event, to find the event
            log.info("view %s: a batch failed (%s); redoing it event by event", projection.name, error)
    with projection.view.transaction(lazy=True) as one_by_one:
        return batch.event_by_event(one_by_one)


#: What a view's batch in a shared transaction came to: its progress, or why it wrote nothing.
Outcome = Progress | PositionMoved | IntegrityError


def apply_together(
    app: Application[Any], projections: Sequence[ViewProjection], window: Window
) -> dict[str, Outcome]:
    """Apply ``window`` to views of one database in one transaction, each view's batch and
    position inside a savepoint of its own.

    A view's batch that fails is rolled back to its savepoint and redone there event by
    event, as ``apply_window`` redoes it in a new transaction; a view whose position another
    writer moved (``PositionMoved``, ``IntegrityError``) is rolled back to its savepoint alone.
    The other views' batches stand. On PostgreSQL one transaction per window instead of one
    per view lets the server work on every view's rows while this process applies the next
    view's events; it took 6–9% off a catch-up there.
    """
    outcomes: dict[str, Outcome] = {}
    with projections[0].view.transaction(lazy=True) as tx:
        for projection in projections:
            outcomes[projection.name] = _Batch(app, projection, window).in_savepoint(tx)
    return outcomes


class _Batch:
    def __init__(self, app: Application[Any], projection: ViewProjection, window: Window) -> None:
        self.app, self.projection, self.window = app, projection, window
        wanted = projection.topic_set
        self.events: list[tuple[Notification, Any, EventText]] = []
        self.undecodable: tuple[Notification, Undecodable] | None = None
        for notification, event, text in window.prepared():
            if notification.topic not in wanted:
                continue
            if text is None:  # the view stops before it
                self.undecodable = (notification, event)
                break
            self.events.append((notification, event, text))

    def _check_position(self, tx: Tx) -> None:
        tracked = self.projection.position_in(tx, self.app.name)
        if tracked != self.window.start:
            raise PositionMoved(tracked)

    def _track(self, tx: Tx, position: int) -> None:
        self.projection.view._insert_tracking(tx.cursor, Tracking(self.app.name, position))

    def fast(self, tx: Tx) -> Progress:
        """Every event, its row writes buffered, no savepoints; any failure raises, and the
        caller redoes the batch event by event."""
        self._check_position(tx)
        apply = self.projection.apply
        with tx.pipeline():
            for count, (notification, domain_event, text) in enumerate(self.events, 1):
                apply(tx, notification.id, domain_event, text)
                if count % SEND_EVERY == 0:
                    tx.flush()  # the server works on these while the next are applied
            tx.verify()  # a checked write that missed its row raises here
        self._track(tx, self.window.end)
        return Progress(len(self.events), self.window.end, self.window.caught_up)

    def in_savepoint(self, tx: Tx) -> Outcome:
        """The batch inside a savepoint of the caller's transaction (see ``apply_together``)."""
        if self.undecodable is None and self.window.end <= self.window.start:
            return Progress(0, self.window.start, self.window.caught_up)
        tx.execute("SAVEPOINT view_batch")
        try:
            progress = self._fast_else_event_by_event(tx)
        except (PositionMoved, IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError) as moved:
            tx.discard()
            tx.execute("ROLLBACK TO SAVEPOINT view_batch")
            tx.execute("RELEASE SAVEPOINT view_batch")
            # Another writer was here. The drivers' refusal of a position tracked twice is turned
            # into the library's ``IntegrityError`` by the library only when its transaction ends.
            return moved if isinstance(moved, PositionMoved | IntegrityError) else IntegrityError(str(moved))
        tx.execute("RELEASE SAVEPOINT view_batch")
        return progress

    def _fast_else_event_by_event(self, tx: Tx) -> Progress:
        if self.undecodable is None:
            try:
                return self.fast(tx)
            except (PositionMoved, IntegrityError):
                raise
            except Exception as error:  # redone below, event by event, to find the event
                log.info(
                    "view %s: a batch failed (%s); redoing it event by event", self.projection.name, error
                )
                tx.discard()
                tx.execute("ROLLBACK TO SAVEPOINT view_batch")
        return self.event_by_event(tx)

    def event_by_event(self, tx: Tx) -> Progress:
        """Each event inside a savepoint; the first that fails stops the batch just before it."""
        self._check_position(tx)
        projection, applied = self.projection, 0
        for notification, domain_event, text in self.events:
            tx.execute("SAVEPOINT view_event")
            try:
                projection.apply(tx, notification.id, domain_event, text)
            except Exception as error:
                tx.execute("ROLLBACK TO SAVEPOINT view_event")
                return self._stop(tx, notification, describe(error), applied)
            tx.execute("RELEASE SAVEPOINT view_event")
            applied += 1
        if self.undecodable is not None:
            notification, undecodable = self.undecodable
            return self._stop(tx, notification, describe(undecodable.error), applied)
        self._track(tx, self.window.end)
        return Progress(applied, self.window.end, self.window.caught_up)

    def _stop(self, tx: Tx, notification: Notification, error: str, applied: int) -> Progress:
        stalled = ProjectionStalled(self.projection.name, notification.id, notification.topic, error)
        before = notification.id - 1
        if before > self.window.start:
            self._track(tx, before)
        return Progress(applied, max(before, self.window.start), False, stalled)
