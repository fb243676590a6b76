"""The schedule of one campaign: every planned boundary and whether it has happened yet.

Pure functions over the campaign aggregate and its stored events; no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.campaign import Campaign, PhaseEdge
from domain.timeline import PhaseCode, PhaseStatus, Side, to_utc

LATE_AFTER = timedelta(seconds=60)
_EDGE_EVENTS: dict[type[PhaseEdge], Side] = {Campaign.PhaseOpened: "opens", Campaign.PhaseClosed: "closes"}


class BoundaryState(StrEnum):
    PENDING = "pending"  # not recorded yet
    DONE = "done"  # recorded by the scheduler within LATE_AFTER of its instant
    LATE = "late"  # recorded by the scheduler, more than LATE_AFTER after its instant
    OVERRIDDEN = "overridden"  # recorded by an organiser's open-now/close-now
    BLOCKED = "blocked"  # a closing of a phase whose opening is not announced: it cannot happen yet


@dataclass(frozen=True)
class RecordedEdge:
    """One PhaseOpened/PhaseClosed event as stored."""

    campaign_id: UUID
    code: PhaseCode
    side: Side
    by: str
    scheduled: datetime | None
    actual: datetime
    version: int

    @property
    def delay(self) -> timedelta | None:
        return None if self.scheduled is None else self.actual - self.scheduled


@dataclass(frozen=True)
class PlannedBoundary:
    campaign_id: UUID
    instant: datetime  # UTC
    code: PhaseCode
    side: Side
    state: BoundaryState
    recorded: RecordedEdge | None = None

    @property
    def job_id(self) -> str:
        return job_id(self.campaign_id, self.code, self.side, self.instant)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, e.g. for a GET /schedule response."""
        recorded = self.recorded
        return {
            "campaign_id": str(self.campaign_id),
            "code": self.code.value,
            "side": self.side,
            "instant": self.instant.isoformat(),
            "state": self.state.value,
            "by": recorded.by if recorded else None,
            "scheduled": recorded.scheduled.isoformat() if recorded and recorded.scheduled else None,
            "actual": recorded.actual.isoformat() if recorded else None,
        }


def job_id(campaign_id: UUID, code: PhaseCode, side: Side, instant: datetime) -> str:
    """Stable per boundary: moving the boundary gives the job a new id."""
    return f"{campaign_id}:{code.value}:{side}:{to_utc(instant).isoformat()}"


def recorded_edges(campaign_id: UUID, events: Iterable[object]) -> list[RecordedEdge]:
    """The PhaseOpened/PhaseClosed events among a campaign's stored events, in order."""
    edges: list[RecordedEdge] = []
    for domain_event in events:
        if not isinstance(domain_event, PhaseEdge):
            continue
        side = _EDGE_EVENTS[type(domain_event)]
        edges.append(
            RecordedEdge(
                campaign_id=campaign_id,
                code=PhaseCode(domain_event.code),
                side=side,
                by=domain_event.by,
                scheduled=to_utc(domain_event.scheduled),
                actual=to_utc(domain_event.timestamp),
                version=domain_event.originator_version,
            )
        )
    return edges


def plan_of(campaign: Campaign, events: Iterable[object]) -> list[PlannedBoundary]:
    """Every boundary of the current timeline in timeline order, with its state.

    An opening counts as recorded once the phase is no longer pending, a closing once
    the phase is closed (a closed phase re-opened by an extension is pending again);
    the latest matching event tells who recorded it and when.
    """
    latest: dict[tuple[PhaseCode, Side], RecordedEdge] = {}
    for recorded in recorded_edges(campaign.id, events):
        latest[(recorded.code, recorded.side)] = recorded
    planned: list[PlannedBoundary] = []
    for instant, side, code in campaign.timeline.boundaries():
        status = campaign.phase_status[code]
        happened = status is not PhaseStatus.PENDING if side == "opens" else status is PhaseStatus.CLOSED
        edge = latest.get((code, side)) if happened else None
        if happened:
            state = _state(edge)
        elif side == "closes" and campaign.timeline[code].opens is None:
            state = BoundaryState.BLOCKED
        else:
            state = BoundaryState.PENDING
        planned.append(
            PlannedBoundary(
                campaign_id=campaign.id,
                instant=to_utc(instant),
                code=code,
                side=side,
                state=state,
                recorded=edge,
            )
        )
    return planned


def _state(edge: RecordedEdge | None) -> BoundaryState:
    if edge is None:  # status says it happened; its event is not among those given
        return BoundaryState.DONE
    if edge.by == "organiser":
        return BoundaryState.OVERRIDDEN
    delay = edge.delay
    if delay is not None and delay > LATE_AFTER:
        return BoundaryState.LATE
    return BoundaryState.DONE


@dataclass(frozen=True)
class PlannedRetention:
    """The campaign's retention policy as a boundary: when personal data fall due for erasure.

    :ivar instant: 00:00 Asia/Shanghai, the given number of days after the ceremony (UTC).
    :ivar erased: how many were erased when it was carried out.
    """

    campaign_id: UUID
    instant: datetime
    erase_after_days: int
    state: BoundaryState
    actual: datetime | None = None
    erased: int | None = None

    @property
    def job_id(self) -> str:
        return f"{self.campaign_id}:retention:{to_utc(self.instant).isoformat()}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "instant": self.instant.isoformat(),
            "erase_after_days": self.erase_after_days,
            "state": self.state.value,
            "actual": self.actual.isoformat() if self.actual else None,
            "erased": self.erased,
        }


def retention_of(campaign: Campaign, events: Iterable[Any]) -> PlannedRetention | None:
    """The retention boundary, or None when the campaign keeps no policy or the ceremony has no end."""
    due = campaign.retention_due
    if campaign.retention is None or due is None:
        return None
    done = [e for e in events if type(e).__name__ == "RetentionCarriedOut"]
    if campaign.retention_done is None or not done:
        return PlannedRetention(campaign.id, due, campaign.retention.erase_after_days, BoundaryState.PENDING)
    last = done[-1]
    actual = to_utc(last.timestamp)
    late = actual - to_utc(last.scheduled) > LATE_AFTER
    return PlannedRetention(
        campaign.id,
        to_utc(last.scheduled),
        campaign.retention.erase_after_days,
        BoundaryState.LATE if late else BoundaryState.DONE,
        actual,
        last.erased,
    )


def pending(plan: Iterable[PlannedBoundary]) -> list[PlannedBoundary]:
    return [boundary for boundary in plan if boundary.state is BoundaryState.PENDING]
