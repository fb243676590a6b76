"""The campaign: one edition's timeline, quotas and rule version, and its phase record."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidTimeline, NotPermitted, ReasonRequired
from domain.ids import campaign_id
from domain.timeline import PhaseCode, PhaseStatus, Side, Timeline, shanghai_text
from domain.values import CITY_QUOTAS, GROUP_CAP, Actor, Group, Role

_STATUS_AFTER = {"opens": PhaseStatus.OPEN, "closes": PhaseStatus.CLOSED}


class Campaign(Aggregate):
    """Phase status is what PhaseOpened/PhaseClosed say; gating reads the timeline's dates."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return campaign_id(name)

    @classmethod
    def launch(
        cls,
        *,
        name: str,
        timeline: Timeline,
        actor: Actor,
        at: datetime,
        template: str | None = None,
        quotas: Mapping[str, Mapping[Group, int]] | None = None,
        caps: Mapping[Group, int] | None = None,
    ) -> Campaign:
        if actor.role is not Role.ADMIN:
            raise NotPermitted("launch campaign: only organisers (admin) may launch a campaign")
        if not name.strip():
            raise InvalidTimeline("a campaign needs a name")
        quota_table = quotas or {
            city: {Group.TRAINEE: trainee, Group.VETERAN: veteran}
            for city, (trainee, veteran) in CITY_QUOTAS.items()
        }
        return cls(
            name=name.strip(),
            timeline=timeline.to_data(),
            contest_pinned=timeline.contest_pinned,
            template=template,
            quotas={city: {g.value: n for g, n in row.items()} for city, row in quota_table.items()},
            caps={g.value: n for g, n in (caps or dict.fromkeys(Group, GROUP_CAP)).items()},
            actor=actor,
            timestamp=at,
        )

    @event("CampaignLaunched")
    def __init__(
        self,
        name: str,
        timeline: dict[str, dict[str, datetime | None]],
        contest_pinned: bool,
        template: str | None,
        quotas: dict[str, dict[str, int]],
        caps: dict[str, int],
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.name = name
        self.timeline = Timeline.from_data(timeline, contest_pinned)
        self.template = template
        self.quotas = quotas
        self.caps = caps
        self.rule_version = 1
        self.phase_status = dict.fromkeys(PhaseCode, PhaseStatus.PENDING)

    # --- queries -------------------------------------------------------------

    def quota(self, city: str, group: Group) -> int | None:
        """The recommendation quota of a city for a group; None when unlimited (family)."""
        return self.quotas.get(city, {}).get(group.value)

    def cap(self, group: Group) -> int:
        return self.caps[group.value]

    def is_open(self, code: PhaseCode, at: datetime) -> bool:
        return self.timeline[code].contains(at)

    # --- decisions -----------------------------------------------------------

    def amend_timeline(
        self,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]],
        *,
        reason: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Move dates; a boundary already recorded as passed stays in the past."""
        _require_organiser(actor, "amend timeline")
        _require_reason(reason, "amend timeline")
        timeline = self.timeline.amended(changes)
        diff = _diff(self.timeline, timeline)
        if not diff:
            raise InvalidTimeline("amend timeline: the amendment changes nothing")
        for code_text, moved in diff.items():
            self._check_history_kept(PhaseCode(code_text), moved, at)
        self._timeline_amended(
            timeline=timeline.to_data(),
            contest_pinned=timeline.contest_pinned,
            changes=diff,
            rule_version=self.rule_version + 1,
            reason=reason.strip(),
            actor=actor,
            timestamp=at,
        )

    def _check_history_kept(
        self, code: PhaseCode, moved: Mapping[str, list[datetime | None]], at: datetime
    ) -> None:
        """What has happened stays as it happened: only future boundaries move."""
        if "opens" in moved:
            if self.phase_status[code] is not PhaseStatus.PENDING:
                raise InvalidTimeline(
                    f"amend timeline: {code} has already opened; its opening cannot be moved"
                )
            opens = moved["opens"][1]
            if opens is not None and opens < at:
                raise InvalidTimeline(
                    f"amend timeline: {code} cannot be scheduled to open in the past "
                    f"({shanghai_text(opens)}); open it now with a reason instead"
                )
        if "closes" in moved:
            closes = moved["closes"][1]
            if closes is not None and closes < at:
                raise InvalidTimeline(
                    f"amend timeline: {code} cannot be scheduled to close in the past "
                    f"({shanghai_text(closes)}); close it now with a reason instead"
                )

    @event("TimelineAmended")
    def _timeline_amended(
        self,
        timeline: dict[str, dict[str, datetime | None]],
        contest_pinned: bool,
        changes: dict[str, dict[str, list[datetime | None]]],
        rule_version: int,
        reason: str,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.timeline = Timeline.from_data(timeline, contest_pinned)
        self.rule_version = rule_version

    def open_now(self, code: PhaseCode, *, reason: str, actor: Actor, at: datetime) -> None:
        """Organiser override: open a pending phase now, moving its opening to now."""
        _require_organiser(actor, f"open {code}")
        _require_reason(reason, f"open {code}")
        status = self.phase_status[code]
        if status is not PhaseStatus.PENDING:
            raise InvalidTimeline(f"open {code}: it is already {status}; amend its closing date to extend it")
        window = self.timeline[code]
        if window.closes is not None and window.closes <= at:
            raise InvalidTimeline(
                f"open {code}: it closed at {shanghai_text(window.closes)}; "
                "amend its closing date to extend it"
            )
        if window.opens is None or window.opens > at:
            self.amend_timeline({code: {"opens": at}}, reason=reason, actor=actor, at=at)
        self._record_edge(code, "opens", window.opens, actor=actor, at=at, reason=reason)

    def close_now(self, code: PhaseCode, *, reason: str, actor: Actor, at: datetime) -> None:
        """Organiser override: close an open phase now, moving its closing to now."""
        _require_organiser(actor, f"close {code}")
        _require_reason(reason, f"close {code}")
        if self.phase_status[code] is not PhaseStatus.OPEN:
            raise InvalidTimeline(f"close {code}: it is {self.phase_status[code]}, not open")
        window = self.timeline[code]
        if window.closes is None or window.closes > at:
            self.amend_timeline({code: {"closes": at}}, reason=reason, actor=actor, at=at)
        self._record_edge(code, "closes", window.closes, actor=actor, at=at, reason=reason)

    def record_due_boundaries(self, *, actor: Actor, at: datetime) -> list[tuple[PhaseCode, Side]]:
        """Record every boundary the timeline says has passed by ``at``, in timeline order.

        Idempotent: a boundary already recorded is not recorded again. A phase that was
        closed and then extended by an amendment is recorded as opened again.
        """
        recorded: list[tuple[PhaseCode, Side]] = []
        for instant, side, code in self.timeline.boundaries():
            if instant > at:
                break
            due = self.timeline[code].status_at(at)
            current = self.phase_status[code]
            if side == "opens" and current is not PhaseStatus.OPEN and due is not PhaseStatus.PENDING:
                if current is PhaseStatus.CLOSED and due is PhaseStatus.CLOSED:
                    continue
                self._record_edge(code, side, instant, actor=actor, at=at, reason=None)
                recorded.append((code, side))
            elif side == "closes" and current is PhaseStatus.OPEN and due is PhaseStatus.CLOSED:
                self._record_edge(code, side, instant, actor=actor, at=at, reason=None)
                recorded.append((code, side))
        return recorded

    def _record_edge(
        self,
        code: PhaseCode,
        side: Side,
        scheduled: datetime | None,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "code": code.value,
            "by": "scheduler" if actor.role is Role.SCHEDULER else "organiser",
            "scheduled": scheduled,
            "rule_version": self.rule_version,
            "reason": reason,
            "actor": actor,
            "timestamp": at,
        }
        if side == "opens":
            self._phase_opened(**kwargs)
        else:
            self._phase_closed(**kwargs)

    @event("PhaseOpened")
    def _phase_opened(
        self,
        code: str,
        by: str,
        scheduled: datetime | None,
        rule_version: int,
        reason: str | None,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.phase_status[PhaseCode(code)] = PhaseStatus.OPEN

    @event("PhaseClosed")
    def _phase_closed(
        self,
        code: str,
        by: str,
        scheduled: datetime | None,
        rule_version: int,
        reason: str | None,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.phase_status[PhaseCode(code)] = PhaseStatus.CLOSED


def _require_organiser(actor: Actor, action: str) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted(f"{action}: only organisers (admin) may do this, not {actor.role}")


def _require_reason(reason: str | None, action: str) -> None:
    if not (reason and reason.strip()):
        raise ReasonRequired(f"{action}: a reason is required")


def _diff(old: Timeline, new: Timeline) -> dict[str, dict[str, list[datetime | None]]]:
    """{code: {side: [old, new]}} for every edge that moved."""
    changes: dict[str, dict[str, list[datetime | None]]] = {}
    for code in PhaseCode:
        for side in ("opens", "closes"):
            before, after = old[code].edge(side), new[code].edge(side)
            if before != after:
                changes.setdefault(code.value, {})[side] = [before, after]
    return changes
