"""The roster and the quotas of a campaign as they stood at an instant, computed from the log.

The live views' own handlers (``RosterView``, ``QuotasView``) are applied, in log order, to
the campaign's events dated up to the instant, into tables in this process's memory; the
views' own queries then read them. So an as-of roster is filtered, paged and masked exactly
as the live one, and no second copy of the view logic exists. The live views are not read.

An event belongs to the instant when it is dated at or before it. A contestant's and the
campaign's decisions are dated in order (one dated earlier than its aggregate's last is
refused), so theirs are a prefix of their history: the aggregate as it was. A pool's places
are counted by the dates of the nominations and departures that took and gave them back;
a pool opened by a later-dated nomination is opened for an earlier-dated one that took a
place in it. The aggregates of the campaign are known by their first event (the campaign
itself, and whatever names it: contestants, pools).

The campaign's events are read and decoded once and kept (for the campaign read last, up to
``KEPT_EVENTS``), then extended by what the log has gained; an erasure in the new events
drops them, so an erased person is decoded again, as erased. An event that a later one of
its originator writes over in every view taking it (a score recorded again) is applied only
when no later one is dated up to the instant, and decoded only then. Of each event only what
the views read is decoded: never who decided (``LEFT_OUT``), and of a change of status or a
place taken or given back nothing but its instant (``INSTANT_ONLY``). A replay is kept for a few
further reads (another page, the quotas beside the roster) while the log's head has not moved;
every instant at or after the latest event reads all of them, so the replay at that event's date
answers for each (the warm-up builds it), except from a log that is not kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import JSONTranscoder, Notification
from eventsourcing.utils import TopicError, get_topic

from application.errors import StoreUnavailable
from application.person_keys import SubjectMapper
from application.recorders import LogRow, PostgresCampaignRecorder, SQLiteCampaignRecorder
from application.replay_decoding import Decoding
from domain.contestant import Contestant
from domain.lifecycle import Status
from domain.places import Allotment
from domain.timeline import to_utc
from projections.base import ViewProjection
from projections.paused_collector import collector_paused
from projections.quotas import QuotasView
from projections.roster import RosterRow, RosterView
from projections.store import Tx, ViewDatabase

#: A notification read from the log: the campaign recorders' plain tuple, or the library's.
Read = LogRow | Notification
#: Notifications read per query of the log.
BATCH = 5000
#: Replays kept for further reads at the same instant and head.
KEPT = 4
#: The most decoded events kept between replays (about 1.2 kB each).
KEPT_EVENTS = 200_000
#: Seconds ``close`` waits for a warm-up to stop (it stops at its next page of the log).
WARM_UP_JOIN = 5.0
_ERASED = get_topic(Contestant.Erased)
_NOMINATED = get_topic(Contestant.Nominated)
#: The sealed fields the views show (the training account); the decisions' reasons and
#: evidence, sealed too, are never read by them and stay shut.
OPENED = frozenset({"training_account"})
#: What the views never read of an event: who decided (the roster and the quotas show no decision).
LEFT_OUT = ("decision",)
#: Events of which the views read nothing but whose and when (a change of status, a place taken
#: or given back): only their instant is decoded.
INSTANT_ONLY = frozenset(
    get_topic(kind)
    for kind in (
        Contestant.Verified,
        Contestant.Rejected,
        Contestant.Reconsidered,
        Contestant.Trained,
        Contestant.Withdrawn,
        Contestant.Disqualified,
        Allotment.PlaceTaken,
        Allotment.PlaceReleased,
    )
)


class _GivenUp(Exception):
    """A warm-up stopped half-way: the events it read are not kept."""


@dataclass(frozen=True)
class Replayed:
    """The views of one campaign at one instant.

    :ivar head: the log's head the replay read up to.
    :ivar applied: how many of the campaign's events the views took in.
    """

    campaign_id: UUID
    as_of: datetime
    head: int
    applied: int
    roster: RosterView
    quotas: QuotasView
    db: ViewDatabase  # the tables live as long as this replay is referenced


@dataclass
class _CampaignLog:
    """The campaign's events of the views' topics up to ``head``: (notification id, topic, event).

    An event of a ``last_wins`` topic is decoded only once a replay needs it (its event is None
    until then, its notification in ``undecoded``): most are written over by a later one of
    their originator at every instant read, and are never decoded at all.
    """

    campaign_id: UUID
    decode: Callable[[Read], Any]
    head: int = 0
    events: list[tuple[int, str, Any]] = field(default_factory=list)
    members: set[Any] = field(default_factory=set)
    name_orders: dict[str, str] = field(default_factory=dict)  # dropped with the events
    erased: set[Any] = field(default_factory=set)  # contestants with an erasure in the events
    undecoded: dict[int, Read] = field(default_factory=dict)  # by place in ``events``
    runs: dict[tuple[Any, str], list[int]] = field(default_factory=dict)  # last-wins places by originator
    _latest: tuple[tuple[int, int], datetime | None] | None = None  # ((head, events), latest) last found

    def event(self, n: int) -> Any:
        """The event at place ``n`` of ``events``, decoded now if it was not yet."""
        notification_id, topic, event = self.events[n]
        if event is None:
            with _store_read():
                event = self.decode(self.undecoded[n])
            del self.undecoded[n]
            self.events[n] = (notification_id, topic, event)
        return event

    def last_at(self, run: Sequence[int], at: datetime) -> int:
        """How many of a run's events are dated up to ``at``: its events are dated in order."""
        if not run or self.event(run[-1]).timestamp <= at:
            return len(run)  # the usual answer: the last is read first, the others never
        low, high = 0, len(run) - 1
        while low < high:
            middle = (low + high) // 2
            if self.event(run[middle]).timestamp <= at:
                low = middle + 1
            else:
                high = middle
        return low

    def latest(self, head: int) -> datetime | None:
        """The date of the latest of the events up to ``head`` (None without any): every instant from
        it on sees all of them, so one replay serves them all. A run's last is its latest."""
        if self._latest is not None and self._latest[0] == (head, len(self.events)):
            return self._latest[1]
        dates = [
            event.timestamp
            for notification_id, _, event in self.events
            if event is not None and notification_id <= head
        ]
        for run in self.runs.values():
            read = [n for n in run if self.events[n][0] <= head]
            if read:
                dates.append(self.event(read[-1]).timestamp)
        found = max(dates, default=None)
        self._latest = ((head, len(self.events)), found)
        return found

    def keepable(self) -> bool:
        """Not when a person erased in these events was decoded whole (read as the erasure was
        recorded, before their key was destroyed): the next read decodes them again."""
        if len(self.events) > KEPT_EVENTS:
            return False
        whole = (
            event
            for _, topic, event in self.events
            if topic == _NOMINATED and event.originator_id in self.erased and not event.person.is_erased
        )
        return not self.erased or next(whole, None) is None


class _Scratch:
    """Fresh views in memory, and which of them takes each topic."""

    def __init__(self, name_orders: dict[str, str] | None = None) -> None:
        self.db = ViewDatabase.in_memory()
        self.roster = RosterView(self.db, name_orders=name_orders)
        self.quotas = QuotasView(self.db)
        self.by_topic: dict[str, list[ViewProjection]] = {}
        for view in (self.roster, self.quotas):
            for topic in view.topics:
                self.by_topic.setdefault(topic, []).append(view)
        overwritten = {get_topic(kind) for kind in RosterView.overwritten_by_next}
        #: Topics whose event only the last of its originator's matters to every view taking it.
        self.last_wins = frozenset(
            topic for topic, views in self.by_topic.items() if views == [self.roster] and topic in overwritten
        )

    def apply(self, tx: Tx, entry: tuple[int, str, Any]) -> int:
        notification_id, topic, event = entry
        for view in self.by_topic[topic]:
            view.apply(tx, notification_id, event)
        return 1


class AsOfViews:
    """Builds (and keeps a few of) the campaign views at instants."""

    def __init__(
        self,
        app: Application[UUID],
        *,
        kept: int = KEPT,
        batch: int = BATCH,
        prefetch: Callable[[Sequence[UUID]], None] | None = None,
    ) -> None:
        """``prefetch``: told the contestants whose nominations a batch is about to decode, so their
        data keys are read together rather than one query each."""
        self.app = app
        self.batch = batch
        self.prefetch = prefetch
        scratch = _Scratch()
        self.topics = sorted(scratch.by_topic)  # the views' own handler tables say what to read
        self.last_wins = scratch.last_wins
        mapper = app.mapper
        self._decoding: Callable[[], Callable[[Read], Any]] = (
            partial(Decoding, mapper, OPENED, LEFT_OUT, INSTANT_ONLY)
            if isinstance(mapper, SubjectMapper) and isinstance(mapper.transcoder, JSONTranscoder)
            else lambda: lambda read: mapper.to_domain_event(_notification(read))
        )
        self._kept_size = kept
        self._kept: OrderedDict[tuple[UUID, datetime, int], Replayed] = OrderedDict()
        self._log: _CampaignLog | None = None
        self._lock = threading.Lock()
        self._building = threading.Lock()  # one replay at a time: a second asker then finds it kept
        self._closed = threading.Event()
        self._warming: threading.Thread | None = None

    def at(self, campaign_id: UUID, as_of: datetime, *, now: datetime | None = None) -> Replayed:
        return self.at_each(campaign_id, [as_of], now=now)[0]

    def at_each(
        self, campaign_id: UUID, instants: Sequence[datetime], *, now: datetime | None = None
    ) -> list[Replayed]:
        """The views at each instant, from one read of the log for those not kept.

        An instant at ``now`` (today read up to now) is answered but never kept under its own
        instant: every reading has a now of its own, and keeping each would push out the views
        other readings come back for. Its replay past the latest event is kept at that event.
        """
        fleeting = None if now is None else to_utc(now)

        def lasting(at: datetime) -> bool:
            return fleeting is None or at < fleeting

        head = int(self.app.recorder.max_notification_id() or 0)
        keys = [(campaign_id, to_utc(at), head) for at in instants]
        found = self._recall(keys)
        if len(found) < len(set(keys)):
            with self._building, collector_paused():
                found = self._recall(keys)
                missing = [key for key in dict.fromkeys(keys) if key not in found]
                if missing:
                    log = self._campaign_log(campaign_id, head)
                    # Past the latest event every instant reads the same: one replay, at the latest,
                    # serves them (not when the log is not kept: an erased person read whole).
                    latest = log.latest(head) if self._log is log else None
                    replay_at = {key: key[1] if latest is None else min(key[1], latest) for key in missing}
                    known = self._recall([(campaign_id, at, head) for at in replay_at.values()])
                    to_replay = [
                        at for at in dict.fromkeys(replay_at.values()) if (campaign_id, at, head) not in known
                    ]
                    for replayed in self._replay(log, to_replay, head) if to_replay else []:
                        known[(campaign_id, replayed.as_of, head)] = replayed
                        if lasting(replayed.as_of):
                            self._keep((campaign_id, replayed.as_of, head), replayed)
                    for key, at in replay_at.items():
                        found[key] = known[(campaign_id, at, head)]
                        if at != key[1]:
                            found[key] = replace(found[key], as_of=key[1])
                            if lasting(key[1]):  # the next page at this instant finds it at once
                                self._keep(key, found[key])
        return [found[key] for key in keys]

    def warm(self, campaign_id: UUID) -> bool:
        """Read and decode the campaign's events now, so that its first as-of read finds them kept.

        Left alone when another campaign's events are kept (a reader asked for it) and given up
        as soon as they outnumber ``KEPT_EVENTS``, so a warm-up never holds more than a read
        would keep. True when they are kept.
        """
        head = int(self.app.recorder.max_notification_id() or 0)
        with self._building, collector_paused():
            if self._closed.is_set() or (self._log is not None and self._log.campaign_id != campaign_id):
                return False
            try:
                log = self._campaign_log(campaign_id, head, most=KEPT_EVENTS)
            except _GivenUp:
                return False
            if self._log is not log:
                return False
            latest = log.latest(head)  # the runs' last events decoded: what a read at the head applies
            if latest is not None:  # and the views past the latest event, which any later instant reads
                self._keep((campaign_id, latest, head), self._replay(log, [latest], head)[0])
            return True

    def warm_in_background(self, choose: Callable[[], UUID | None], say: Callable[[str], None]) -> None:
        """``warm`` the campaign ``choose`` names, on a thread of its own: start-up does not wait for
        it, and a read arriving meanwhile waits only for what is left of it. A store that does not
        answer ends it (a read then decodes as it would have without it)."""

        def run() -> None:
            try:
                campaign_id = choose()
                if campaign_id is None or self._closed.is_set():
                    return
                started = time.monotonic()
                kept = self.warm(campaign_id)
                events = len(self._log.events) if kept and self._log is not None else 0
                say(
                    f"as-of: campaign {campaign_id} {'decoded' if kept else 'not kept'}"
                    f"{f' ({events} events)' if kept else ''} in {time.monotonic() - started:.1f} s"
                )
            except Exception as error:  # a warm-up only saves time: the read itself reports errors
                if not self._closed.is_set():
                    # only the store's own words: another error's text might quote what it decoded
                    said = f": {error}" if isinstance(error, StoreUnavailable) else ""
                    say(f"as-of: warm-up skipped ({type(error).__name__}{said})")

        self._warming = threading.Thread(target=run, name="zhanyou-as-of-warm-up", daemon=True)
        self._warming.start()

    def warmed(self, timeout: float | None = None) -> bool:
        """Wait for a warm-up under way to end; False when it is still running after ``timeout``."""
        warming = self._warming
        if warming is not None:
            warming.join(timeout)
        return warming is None or not warming.is_alive()

    def close(self) -> None:
        self._closed.set()
        warming = self._warming
        if warming is not None and warming is not threading.current_thread():
            warming.join(timeout=WARM_UP_JOIN)  # stops at its next page of the log
        with self._lock:
            self._kept.clear()
            self._log = None

    # --- the campaign's events ---------------------------------------------------

    def _campaign_log(self, campaign_id: UUID, head: int, *, most: int | None = None) -> _CampaignLog:
        log = self._log
        if log is None or log.campaign_id != campaign_id:
            log = _CampaignLog(campaign_id, self._decoding(), members={campaign_id})
        self._log = None  # a read that fails half-way leaves nothing half-read behind
        with _store_read():
            if log.head < head and not self._extend(log, head, most):
                log = _CampaignLog(campaign_id, self._decoding(), members={campaign_id})  # an erasure
                self._extend(log, head, most)
        self._log = log if log.keepable() else None
        return log

    def _extend(self, log: _CampaignLog, head: int, most: int | None = None) -> bool:
        """Read and decode what the log gained up to ``head``; False when it holds an erasure.

        ``most``: given up (``_GivenUp``) once the events outnumber it, or once the views close.
        """
        decode, last_wins = log.decode, self.last_wins
        position, fresh = log.head, not log.events
        # The next page is read (and its data keys) while this one is decoded: the store's
        # time then overlaps the decoding's rather than adding to it.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhanyou-as-of-read") as reader:
            page = reader.submit(self._page, position, head)
            while True:
                if most is not None and (len(log.events) > most or self._closed.is_set()):
                    page.cancel()
                    raise _GivenUp
                notifications = page.result()
                if not notifications:
                    break
                position = notifications[-1].id
                if position < head:
                    page = reader.submit(self._page, position, head)
                if not self._decoded(log, notifications, fresh, decode, last_wins):
                    return False
                if position >= head:
                    break
        log.head = head
        return True

    def _page(self, position: int, head: int) -> Sequence[Read]:
        """The views' notifications after ``position`` up to ``head``, their people's keys read."""
        recorder = self.app.recorder
        notifications: Sequence[Read]
        if isinstance(recorder, SQLiteCampaignRecorder | PostgresCampaignRecorder):
            notifications = recorder.select_log(position, head, self.topics, self.batch)
        else:
            notifications = recorder.select_notifications(
                start=position, limit=self.batch, stop=head, topics=self.topics, inclusive_of_start=False
            )
        if self.prefetch is not None:
            self.prefetch([UUID(str(n.originator_id)) for n in notifications if n.topic == _NOMINATED])
        return notifications

    def _decoded(
        self,
        log: _CampaignLog,
        notifications: Sequence[Read],
        fresh: bool,
        decode: Callable[[Read], Any],
        last_wins: frozenset[str],
    ) -> bool:
        """One page of notifications taken into ``log``; False when it holds an erasure."""
        for notification in notifications:
            originator = notification.originator_id
            if originator not in log.members:
                if notification.originator_version != 1:
                    continue  # an aggregate of another campaign
                event = decode(notification)
                if getattr(event, "campaign_id", None) != log.campaign_id:
                    continue
                log.members.add(originator)
            elif notification.topic == _ERASED:
                if not fresh:
                    return False
                log.erased.add(originator)
                event = decode(notification)
            elif notification.topic in last_wins:
                log.runs.setdefault((originator, notification.topic), []).append(len(log.events))
                log.undecoded[len(log.events)] = notification
                event = None
            else:
                event = decode(notification)
            log.events.append((notification.id, notification.topic, event))
        return True

    # --- replays -----------------------------------------------------------------

    def _replay(self, log: _CampaignLog, instants: Sequence[datetime], head: int) -> list[Replayed]:
        scratches = [_Scratch(log.name_orders) for _ in instants]
        applied = [0] * len(instants)
        with ExitStack() as transactions:
            txs = [transactions.enter_context(s.db.transaction()) for s in scratches]
            for tx in txs:  # one executemany per statement and round, not a statement per write
                transactions.enter_context(tx.pipeline())
            for k, (scratch, tx, at) in enumerate(zip(scratches, txs, instants, strict=True)):
                # of each run of last-wins events, only the last dated up to `at` is applied
                wanted: set[int] = set()
                for run in log.runs.values():
                    read = [n for n in run if log.events[n][0] <= head]
                    reached = log.last_at(read, at)
                    if reached:
                        wanted.add(read[reached - 1])
                        applied[k] += reached - 1  # taken in by the last of them
                later_openings: dict[Any, tuple[int, str, Any]] = {}  # first events dated after `at`
                for n, entry in enumerate(log.events):
                    notification_id, topic, event = entry
                    if notification_id > head:
                        break
                    if topic in scratch.last_wins:
                        if n in wanted:
                            applied[k] += scratch.apply(tx, (notification_id, topic, log.event(n)))
                        continue
                    if event.timestamp > at:
                        if event.originator_version == 1:
                            later_openings[event.originator_id] = entry
                        continue
                    opening = later_openings.pop(event.originator_id, None)
                    if opening is not None:  # a pool that a later-dated nomination opened
                        applied[k] += scratch.apply(tx, opening)
                    applied[k] += scratch.apply(tx, entry)
                tx.verify()  # a checked write that missed its row raises here
        return [
            Replayed(log.campaign_id, at, head, n, s.roster, s.quotas, s.db)
            for s, at, n in zip(scratches, instants, applied, strict=True)
        ]

    # --- kept replays ------------------------------------------------------------

    def _recall(
        self, keys: Sequence[tuple[UUID, datetime, int]]
    ) -> dict[tuple[UUID, datetime, int], Replayed]:
        with self._lock:
            found = {key: self._kept[key] for key in keys if key in self._kept}
            for key in found:
                self._kept.move_to_end(key)
        return found

    def _keep(self, key: tuple[UUID, datetime, int], replayed: Replayed) -> None:
        with self._lock:
            self._kept[key] = replayed
            while len(self._kept) > self._kept_size:
                # not closed here: a reader may still hold it; its tables go with the last reference
                self._kept.popitem(last=False)


def _notification(read: Read) -> Notification:
    if isinstance(read, Notification):
        return read
    return Notification(
        id=read.id,
        originator_id=read.originator_id,
        originator_version=read.originator_version,
        topic=read.topic,
        state=read.state,
    )


@contextmanager
def _store_read() -> Iterator[None]:
    """The store's events that cannot be decoded are the store's failure, named as such."""
    try:
        yield
    except (EventSourcingError, TopicError) as error:
        raise StoreUnavailable(
            "the event store could not be read",
            f"{type(error).__name__}: {error}; is the cipher key the one the events were written with?",
        ) from None


@dataclass(frozen=True)
class RosterDiff:
    """The roster between two instants, each contestant as ``(at the start, at the end)``.

    :ivar entered: not on the roster at the start (the first of the pair is None).
    :ivar left: active at the start, rejected, withdrawn or disqualified at the end.
    :ivar changed: every other change of status.
    """

    entered: list[tuple[RosterRow | None, RosterRow]]
    left: list[tuple[RosterRow | None, RosterRow]]
    changed: list[tuple[RosterRow | None, RosterRow]]
    unchanged: int


def roster_diff(before: Sequence[RosterRow], after: Sequence[RosterRow]) -> RosterDiff:
    """Who entered, who left and whose status changed, in the order of ``after``."""
    then = {row.contestant_id: row for row in before}
    entered: list[tuple[RosterRow | None, RosterRow]] = []
    left: list[tuple[RosterRow | None, RosterRow]] = []
    changed: list[tuple[RosterRow | None, RosterRow]] = []
    unchanged = 0
    for row in after:
        earlier = then.get(row.contestant_id)
        if earlier is None:
            entered.append((None, row))
        elif earlier.status == row.status:
            unchanged += 1
        elif Status(earlier.status).is_active and not Status(row.status).is_active:
            left.append((earlier, row))
        else:
            changed.append((earlier, row))
    return RosterDiff(entered, left, changed, unchanged)
