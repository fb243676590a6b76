"""The campaign calendar: phase and channel windows, the 2021 template, boundaries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal, overload
from zoneinfo import ZoneInfo

from domain.errors import InvalidTimeline, InvalidValue

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTEST_DELAY = timedelta(days=10)  # "比赛开始时间为培训首日后的第10天"


class PhaseCode(StrEnum):
    """Phases of the notice plus the two registration channels, in timeline order."""

    PUBLICITY = "publicity"
    REGISTRATION = "registration"
    RECOMMENDATION = "recommendation"
    SELF_REGISTRATION = "self_registration"
    ONLINE_TRAINING = "online_training"
    CONTEST = "contest"
    OFFLINE_TRAINING = "offline_training"
    FINALS = "finals"
    CEREMONY = "ceremony"

    @classmethod
    def parse(cls, raw: str) -> PhaseCode:
        try:
            return cls(raw)
        except ValueError:
            known = ", ".join(code.value for code in cls)
            raise InvalidTimeline(f"unknown phase or channel {raw!r}; known: {known}") from None


# The registration channels lie inside their phase: they open only while it is open and
# close when it closes.
CHANNELS_OF_PHASE: dict[PhaseCode, tuple[PhaseCode, ...]] = {
    PhaseCode.REGISTRATION: (PhaseCode.RECOMMENDATION, PhaseCode.SELF_REGISTRATION),
}
PHASE_OF_CHANNEL = {channel: phase for phase, channels in CHANNELS_OF_PHASE.items() for channel in channels}
# The phases of the notice in the order they happen; a phase may overlap the one before
# (the contest runs inside training) but does not open before it.
PHASE_ORDER = tuple(code for code in PhaseCode if code not in PHASE_OF_CHANNEL)
# Where people are nominated: registration and its channels.
NOMINATING = (PhaseCode.REGISTRATION, *CHANNELS_OF_PHASE[PhaseCode.REGISTRATION])

# The calendar days a template may be laid on. Before 1901 the zone database has no Beijing
# time for Asia/Shanghai, only Shanghai's local mean time (+08:05:43).
FIRST_DAY, LAST_DAY = date(1901, 1, 1), date(2100, 12, 31)


class PhaseStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


Side = Literal["opens", "closes"]


def shanghai_text(instant: datetime) -> str:
    """An instant as people in Hubei read it, e.g. 2021-07-02T00:00+08:00."""
    local = instant.astimezone(SHANGHAI)
    return local.isoformat(timespec="minutes" if local.second == 0 else "seconds")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def day_end(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai: the exclusive end of a closing day."""
    return day_start(day + timedelta(days=1))


@overload
def to_utc(instant: datetime) -> datetime: ...
@overload
def to_utc(instant: None) -> None: ...
def to_utc(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(UTC)


def require_aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidTimeline(f"{what}: {instant.isoformat()} has no time zone")
    return instant


@dataclass(frozen=True)
class Window:
    """[opens, closes): ``None`` means not announced yet."""

    opens: datetime | None
    closes: datetime | None

    def contains(self, instant: datetime) -> bool:
        return (
            self.opens is not None
            and self.opens <= instant
            and (self.closes is None or instant < self.closes)
        )

    def status_at(self, instant: datetime) -> PhaseStatus:
        """A window whose closing has passed is closed, even if it never had an opening date."""
        if self.closes is not None and instant >= self.closes:
            return PhaseStatus.CLOSED
        if self.opens is None or instant < self.opens:
            return PhaseStatus.PENDING
        return PhaseStatus.OPEN

    def edge(self, side: Side) -> datetime | None:
        return self.opens if side == "opens" else self.closes


@dataclass(frozen=True)
class Timeline:
    """Every code's window. Immutable: amendments build a new timeline."""

    windows: Mapping[PhaseCode, Window]
    contest_pinned: bool = False  # the contest start was set explicitly, not derived

    def __deepcopy__(self, memo: dict[int, Any]) -> Timeline:
        """Copies of a campaign may share its timeline: nothing ever changes one in place."""
        return self

    def validated(self, *, in_order: bool = True) -> Timeline:
        """Check the calendar rules; only deciding code calls this, never an event's apply."""
        missing = [code.value for code in PhaseCode if code not in self.windows]
        if missing:
            raise InvalidTimeline(f"timeline lacks {', '.join(missing)}")
        for code, window in self.windows.items():
            for side in ("opens", "closes"):
                instant = window.edge(side)
                if instant is not None:
                    require_aware(instant, f"{code}.{side}")
            if window.opens and window.closes and window.closes <= window.opens:
                raise InvalidTimeline(
                    f"{code} would close ({shanghai_text(window.closes)}) "
                    f"before it opens ({shanghai_text(window.opens)})"
                )
        registration = self.windows[PhaseCode.REGISTRATION]
        for channel in (PhaseCode.RECOMMENDATION, PhaseCode.SELF_REGISTRATION):
            self._require_inside(channel, registration)
        if in_order:
            self.require_phases_in_order()
            self.require_review_before_training()
        return self

    def require_review_before_training(self, before: Timeline | None = None) -> None:
        """Training opens only once nominations have closed (审核 ends when training opens).

        The notice trains "报名成功且经过审核" contestants, and review ends when training opens,
        so anyone nominated after that could never be verified. Against ``before`` (the
        timeline being amended) only a longer overlap is refused, so a campaign stored
        before this rule can still be amended towards it.
        """
        overlap = self._nominating_after_training()
        if overlap is None:
            return
        if before is not None and not _longer(overlap, before._nominating_after_training()):
            return
        training, (code, closes) = self.windows[PhaseCode.ONLINE_TRAINING].opens, overlap
        assert training is not None  # noqa: S101 - an overlap needs a training start
        until = "has no closing date" if closes is None else f"closes at {shanghai_text(closes)}"
        raise InvalidTimeline(
            f"online_training cannot open ({shanghai_text(training)}) while {code} is open: "
            f"{code} {until}. Training follows registration and review (组织报名 before 线上培训), "
            "and no one nominated once training has opened could be verified; close registration "
            "first or open training later"
        )

    def _nominating_after_training(self) -> tuple[PhaseCode, datetime | None] | None:
        """The window that takes nominations longest past training's opening, with its closing."""
        training = self.windows[PhaseCode.ONLINE_TRAINING].opens
        if training is None:
            return None
        latest: tuple[PhaseCode, datetime | None] | None = None
        for code in NOMINATING:
            window = self.windows[code]
            if window.opens is None or (window.closes is not None and window.closes <= training):
                continue
            if latest is None or _longer((code, window.closes), latest):
                latest = (code, window.closes)
        return latest

    def require_phases_in_order(self) -> None:
        """Each phase opens no earlier than the one before it (unannounced dates set aside).

        Closings are free: the contest may end before training does, a phase may end early.
        """
        latest: tuple[PhaseCode, datetime] | None = None
        for code in PHASE_ORDER:
            instant = self.windows[code].opens
            if instant is None:
                continue
            if latest is not None and instant < latest[1]:
                raise InvalidTimeline(
                    f"{code} cannot open ({shanghai_text(instant)}) before {latest[0]} opens "
                    f"({shanghai_text(latest[1])}): the phases follow the notice's order"
                )
            latest = (code, instant)

    def _require_inside(self, channel: PhaseCode, registration: Window) -> None:
        window = self.windows[channel]
        reg_opens, reg_closes = registration.opens, registration.closes
        if window.opens and reg_opens and window.opens < reg_opens:
            raise InvalidTimeline(
                f"{channel} cannot open before registration opens ({shanghai_text(reg_opens)})"
            )
        if window.closes and reg_closes and window.closes > reg_closes:
            raise InvalidTimeline(
                f"{channel} cannot close after registration closes ({shanghai_text(reg_closes)})"
            )

    def __getitem__(self, code: PhaseCode) -> Window:
        return self.windows[code]

    def __iter__(self) -> Iterator[PhaseCode]:
        return iter(PhaseCode)

    def instant(self, code: PhaseCode, side: Side) -> datetime | None:
        """An edge as the gates read it: a channel with no closing of its own closes with its
        phase, so a registration that closes on its date ends the channels inside it."""
        edge = self.windows[code].edge(side)
        if edge is None and side == "closes" and code in PHASE_OF_CHANNEL:
            return self.windows[PHASE_OF_CHANNEL[code]].closes
        return edge

    def with_changes(self, changes: Mapping[PhaseCode, Window]) -> Timeline:
        """Apply changed windows; the contest start follows the training start unless pinned."""
        windows = dict(self.windows)
        windows.update(changes)
        contest_given = PhaseCode.CONTEST in changes and (
            changes[PhaseCode.CONTEST].opens != self.windows[PhaseCode.CONTEST].opens
        )
        pinned = self.contest_pinned or contest_given
        training_opens = windows[PhaseCode.ONLINE_TRAINING].opens
        if not pinned and training_opens is not None:
            windows[PhaseCode.CONTEST] = replace(
                windows[PhaseCode.CONTEST], opens=derived_contest_opens(training_opens)
            )
        return Timeline(windows, contest_pinned=pinned)

    def pinning_explicit_contest(self) -> Timeline:
        """A timeline given date by date keeps a contest start that differs from the derived one."""
        training, contest = (
            self.windows[PhaseCode.ONLINE_TRAINING].opens,
            self.windows[PhaseCode.CONTEST].opens,
        )
        derived = training is not None and contest == derived_contest_opens(training)
        return self if derived or self.contest_pinned else replace(self, contest_pinned=True)

    def amended(self, changes: Mapping[PhaseCode, Mapping[Side, datetime | None]]) -> Timeline:
        """Move the given edges; an edge not mentioned keeps its instant."""
        windows = {
            code: Window(
                edges.get("opens", self.windows[code].opens),
                edges.get("closes", self.windows[code].closes),
            )
            for code, edges in changes.items()
        }
        return self.with_changes(windows)

    def shifted(self, delta: timedelta) -> Timeline:
        def move(instant: datetime | None) -> datetime | None:
            return None if instant is None else instant + delta

        return Timeline(
            {code: Window(move(w.opens), move(w.closes)) for code, w in self.windows.items()},
            contest_pinned=self.contest_pinned,
        )

    def boundaries(self) -> list[tuple[datetime, Side, PhaseCode]]:
        """Every scheduled edge in the order it happens; closes before opens at one instant."""
        order = list(PhaseCode)
        sides: tuple[Side, Side] = ("opens", "closes")
        edges = [
            (instant, side, code)
            for code, window in self.windows.items()
            for side in sides
            if (instant := window.edge(side)) is not None
        ]
        return sorted(edges, key=lambda e: (e[0], e[1] == "opens", order.index(e[2])))

    def to_data(self) -> dict[str, dict[str, datetime | None]]:
        """Plain data for events, instants in UTC."""
        return {
            code.value: {"opens": to_utc(window.opens), "closes": to_utc(window.closes)}
            for code, window in self.windows.items()
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Mapping[str, datetime | None]], pinned: bool) -> Timeline:
        """Rebuild from an event as recorded, without re-checking today's rules."""
        windows = dict.fromkeys(PhaseCode, Window(None, None))
        windows.update(
            {PhaseCode(code): Window(edges.get("opens"), edges.get("closes")) for code, edges in data.items()}
        )
        return cls(windows, contest_pinned=pinned)


def _longer(
    overlap: tuple[PhaseCode, datetime | None], other: tuple[PhaseCode, datetime | None] | None
) -> bool:
    """Whether ``overlap`` closes later than ``other``; no closing date is the latest of all."""
    if other is None:
        return True
    closes, other_closes = overlap[1], other[1]
    if other_closes is None:
        return False
    return closes is None or closes > other_closes


def derived_contest_opens(training_opens: datetime) -> datetime:
    """00:00 (Asia/Shanghai) of the 10th day after the first training day."""
    return day_start(training_opens.astimezone(SHANGHAI).date() + CONTEST_DELAY)


HUBEI_2021_START = date(2021, 5, 24)


def hubei_2021() -> Timeline:
    """The timeline of notice 鄂退役军人办发〔2021〕20号, closing days ending at 24:00.

    Dates the notice leaves to later announcement are fixed here as configuration:
    "late August" ends 31 Aug, offline training 3-4 Sep, finals 6-7 Sep, ceremony
    15 Sep; the self-registration channel has no opening until it is announced.
    """

    def d(month: int, day: int) -> date:
        return date(2021, month, day)

    training_opens = day_start(d(7, 10))
    windows = {
        PhaseCode.PUBLICITY: Window(day_start(d(5, 24)), day_end(d(6, 6))),
        PhaseCode.REGISTRATION: Window(day_start(d(6, 7)), day_end(d(7, 7))),
        PhaseCode.RECOMMENDATION: Window(day_start(d(6, 7)), day_end(d(7, 1))),
        PhaseCode.SELF_REGISTRATION: Window(None, day_end(d(7, 7))),
        PhaseCode.ONLINE_TRAINING: Window(training_opens, day_end(d(8, 31))),
        PhaseCode.CONTEST: Window(derived_contest_opens(training_opens), day_end(d(8, 31))),
        PhaseCode.OFFLINE_TRAINING: Window(day_start(d(9, 3)), day_end(d(9, 4))),
        PhaseCode.FINALS: Window(day_start(d(9, 6)), day_end(d(9, 7))),
        PhaseCode.CEREMONY: Window(day_start(d(9, 15)), day_end(d(9, 15))),
    }
    return Timeline(windows)


TEMPLATES = {"hubei-2021": (hubei_2021, HUBEI_2021_START)}


def from_template(name: str, start: date | None = None) -> Timeline:
    """A built-in timeline, shifted so that publicity opens on ``start``."""
    try:
        build, template_start = TEMPLATES[name]
    except KeyError:
        raise InvalidTimeline(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}") from None
    timeline = build()
    if start is None:
        return timeline
    earliest, latest = template_start_range(name)
    if not earliest <= start <= latest:
        raise InvalidValue(
            "start",
            f"{start.isoformat()} is outside {earliest.isoformat()} to {latest.isoformat()}: the template "
            f"{name} then keeps every phase inside {FIRST_DAY.year} to {LAST_DAY.year} (Beijing time)",
        )
    # Shift by whole calendar days in Shanghai time, keeping midnight boundaries at midnight.
    return timeline.shifted(timedelta(days=(start - template_start).days))


def template_start_range(name: str) -> tuple[date, date]:
    """The first and last ``start`` that keep every edge of the template between FIRST_DAY and
    LAST_DAY on the Asia/Shanghai calendar."""
    build, template_start = TEMPLATES[name]
    days = [instant.astimezone(SHANGHAI).date() for instant, _, _ in build().boundaries()]
    return template_start + (FIRST_DAY - min(days)), template_start + (LAST_DAY - max(days))
