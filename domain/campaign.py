"""The campaign: one edition's timeline, quotas and rule version, and its phase record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ages import AgeRule, default_age_rules
from domain.awards import AwardRules
from domain.decision import Decision, DecisionContext
from domain.errors import (
    AgeNotAllowed,
    InvalidTimeline,
    NotPermitted,
    ReasonRequired,
    RetentionRefused,
)
from domain.events import DecisionCreated, DecisionEvent
from domain.ids import campaign_id
from domain.retention import RetentionPolicy
from domain.timeline import (
    CHANNELS_OF_PHASE,
    PHASE_OF_CHANNEL,
    SHANGHAI,
    PhaseCode,
    PhaseStatus,
    Side,
    Timeline,
    shanghai_text,
    to_utc,
)
from domain.values import CITY_QUOTAS, GROUP_CAP, SCHEDULER, Actor, Group, Role


class PhaseEdge(DecisionEvent):
    """A phase or channel boundary as it was recorded.

    :ivar code: the ``PhaseCode`` value.
    :ivar by: ``scheduler`` (the timeline fell due) or ``organiser`` (opened or closed now).
    :ivar scheduled: the instant the timeline gave, UTC; None when it had no date.
    """

    code: str
    by: str
    scheduled: datetime | None


class Campaign(Aggregate):
    """Phase status is what PhaseOpened/PhaseClosed say; gating reads the timeline's dates."""

    # --- the facts -------------------------------------------------------------

    class CampaignLaunched(DecisionCreated):
        """The campaign's settings as launched; the decision carries rule version 1.

        :ivar timeline: ``Timeline.to_data()``: phase code -> opens/closes, UTC.
        :ivar contest_pinned: whether the contest's dates were given rather than derived.
        :ivar quotas: city -> group value -> recommendation places.
        :ivar caps: group value -> places across all cities.
        :ivar age_rules: group value -> ``AgeRule.to_data()``; absent before age rules were settings.
        :ivar awards: ``AwardRules.to_data()``; absent before award kinds were settings.
        :ivar retention: ``RetentionPolicy.to_data()``; absent when none was set at launch.
        """

        name: str
        timeline: dict[str, dict[str, datetime | None]]
        contest_pinned: bool
        template: str | None
        quotas: dict[str, dict[str, int]]
        caps: dict[str, int]
        age_rules: dict[str, dict[str, int | None]] | None = None
        awards: dict[str, object] | None = None
        retention: dict[str, Any] | None = None

        class_version = 1

    class TimelineAmended(DecisionEvent):
        """Dates moved; the decision carries the new rule version.

        :ivar changes: phase code -> side -> [before, after], UTC, for every edge that moved.
        """

        timeline: dict[str, dict[str, datetime | None]]
        contest_pinned: bool
        changes: dict[str, dict[str, list[datetime | None]]]

        class_version = 1

    class PhaseOpened(PhaseEdge):
        """The phase's status is open from now."""

        class_version = 1

    class PhaseClosed(PhaseEdge):
        """The phase's status is closed from now."""

        class_version = 1

    class RetentionSet(DecisionEvent):
        """The personal-data retention policy from now (None: none); the decision carries the new
        rule version.

        :ivar retention: ``RetentionPolicy.to_data()`` or None.
        """

        retention: dict[str, Any] | None

        class_version = 1

    class RetentionCarriedOut(DecisionEvent):
        """Every contestant's personal data erased under the policy, as it fell due.

        :ivar scheduled: the instant the policy gave, UTC.
        :ivar erased: how many contestants were erased by this run.
        """

        scheduled: datetime
        erased: int

        class_version = 1

    @staticmethod
    def create_id(name: str) -> UUID:
        return campaign_id(name)

    @classmethod
    def launch(
        cls,
        context: DecisionContext,
        *,
        name: str,
        timeline: Timeline,
        template: str | None = None,
        quotas: Mapping[str, Mapping[Group, int]] | None = None,
        caps: Mapping[Group, int] | None = None,
        age_rules: Mapping[Group, AgeRule] | None = None,
        awards: AwardRules | None = None,
        retention: RetentionPolicy | None = None,
    ) -> Campaign:
        _require_organiser(context.actor, "launch campaign")
        if not name.strip():
            raise InvalidTimeline("launch campaign: a campaign needs a name")
        checked = timeline.pinning_explicit_contest().validated()
        quota_table = quotas or {
            city: {Group.TRAINEE: trainee, Group.VETERAN: veteran}
            for city, (trainee, veteran) in CITY_QUOTAS.items()
        }
        group_caps = {**dict.fromkeys(Group, GROUP_CAP), **(caps or {})}
        ages = {**default_age_rules(), **(age_rules or {})}
        for group, rule in ages.items():
            rule.check(f"launch campaign: the age rule of the {group} group")
        return cls(
            name=name.strip(),
            timeline=checked.to_data(),
            contest_pinned=checked.contest_pinned,
            template=template,
            quotas={city: {g.value: n for g, n in row.items()} for city, row in quota_table.items()},
            caps={g.value: n for g, n in group_caps.items()},
            age_rules={g.value: rule.to_data() for g, rule in ages.items()},
            awards=(awards or AwardRules()).checked().to_data(),
            decision=context.recorded(1),
            timestamp=context.at,
            retention=retention.checked().to_data() if retention else None,
        )

    @event(CampaignLaunched)
    def __init__(
        self,
        name: str,
        timeline: dict[str, dict[str, datetime | None]],
        contest_pinned: bool,
        template: str | None,
        quotas: dict[str, dict[str, int]],
        caps: dict[str, int],
        decision: Decision,
        timestamp: datetime,
        age_rules: dict[str, dict[str, int | None]] | None = None,
        awards: dict[str, object] | None = None,
        retention: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.timeline = Timeline.from_data(timeline, contest_pinned)
        self.template = template
        self.quotas = quotas
        self.caps = caps
        # Campaigns launched before age rules were settings had none on record: the default.
        self.age_rules = (
            {Group(g): AgeRule.from_data(rule) for g, rule in age_rules.items()}
            if age_rules is not None
            else default_age_rules()
        )
        self.awards = AwardRules.from_data(awards)  # the defaults for campaigns launched before
        self.rule_version = 1
        self.phase_status = dict.fromkeys(PhaseCode, PhaseStatus.PENDING)
        self.retention = RetentionPolicy.from_data(retention)
        self.retention_done: datetime | None = None

    # --- queries -------------------------------------------------------------

    def quota(self, city: str, group: Group) -> int | None:
        """A city's recommendation quota for a group: None (unlimited) for families, 0 if unlisted."""
        if group is Group.FAMILY:
            return None
        return self.quotas.get(city, {}).get(group.value, 0)

    def require_age(self, group: Group, born: date, at: datetime, masked_id: str, verb: str) -> None:
        """The group's age rule at the decision's instant (Asia/Shanghai calendar)."""
        rule = self.age_rules.get(group)
        if rule is None:
            return
        problem = rule.refusal(born, at.astimezone(SHANGHAI).date())
        if problem:
            raise AgeNotAllowed(
                f"{verb}: the {group} group ({group.title}) takes people {rule.describe()} at nomination; "
                f"the person with ID number {masked_id} is {problem}"
            )

    @property
    def retention_due(self) -> datetime | None:
        """When the personal data fall due for erasure under the policy (UTC); None without one."""
        if self.retention is None:
            return None
        return self.retention.due(self.timeline)

    def may_erase_by_retention(self, at: datetime) -> bool:
        due = self.retention_due
        return due is not None and due <= at

    def cap(self, group: Group) -> int:
        return self.caps.get(group.value, GROUP_CAP)

    def is_open(self, code: PhaseCode, at: datetime) -> bool:
        return self.timeline[code].contains(at)

    def status_at(self, code: PhaseCode, at: datetime) -> PhaseStatus:
        """The status the dates give; the recorded status may lag until a boundary is recorded."""
        return self.timeline[code].status_at(at)

    # --- decisions -----------------------------------------------------------

    def amend_timeline(
        self,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]],
        context: DecisionContext,
    ) -> None:
        """Move dates; a boundary that has passed stays in the past."""
        at = context.at
        self._may_decide(context, "amend timeline")
        timeline = self.timeline.amended(changes).validated(in_order=False)
        diff = _diff(self.timeline, timeline)
        if not diff:
            raise InvalidTimeline("amend timeline: the amendment changes nothing")
        for code_text, moved in diff.items():
            self._check_history_kept(PhaseCode(code_text), moved, at)
        timeline.require_phases_in_order()
        timeline.require_review_before_training(before=self.timeline)
        self._timeline_amended(
            timeline=timeline.to_data(),
            contest_pinned=timeline.contest_pinned,
            changes=diff,
            decision=context.recorded(self.rule_version + 1),
            timestamp=at,
        )

    def _check_history_kept(
        self, code: PhaseCode, moved: Mapping[str, list[datetime | None]], at: datetime
    ) -> None:
        """What has happened stays as it happened: only future boundaries move."""
        if "opens" in moved:
            # Gating reads the dates, so an opening that has passed is history even
            # before the scheduler has recorded it.
            before = moved["opens"][0]
            if self.phase_status[code] is not PhaseStatus.PENDING or (before is not None and before <= at):
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

    @event(TimelineAmended)
    def _timeline_amended(
        self,
        timeline: dict[str, dict[str, datetime | None]],
        contest_pinned: bool,
        changes: dict[str, dict[str, list[datetime | None]]],
        decision: Decision,
        timestamp: datetime,
    ) -> None:
        self.timeline = Timeline.from_data(timeline, contest_pinned)
        self.rule_version = decision.rule_version

    def open_now(self, code: PhaseCode, context: DecisionContext) -> None:
        """Organiser override: open a pending phase now, moving its opening to now.

        A channel opens only while its phase is open: self-registration inside registration.
        """
        at = context.at
        self._may_decide(context, f"open {code}")
        status = self.phase_status[code]
        if status is not PhaseStatus.PENDING:
            raise InvalidTimeline(f"open {code}: it is already {status}; amend its closing date to extend it")
        window = self.timeline[code]
        if window.closes is not None and window.closes <= at:
            raise InvalidTimeline(
                f"open {code}: it closed at {shanghai_text(window.closes)}; "
                "amend its closing date to extend it"
            )
        phase = PHASE_OF_CHANNEL.get(code)
        if phase is not None and self.timeline[phase].status_at(at) is not PhaseStatus.OPEN:
            raise InvalidTimeline(
                f"open {code}: {phase} is {self.timeline[phase].status_at(at)}; "
                f"a channel opens only while {phase} is open"
            )
        if phase is not None:
            self._catch_up(phase, context)
        if window.opens is None or window.opens > at:
            self.amend_timeline({code: {"opens": at}}, context)
        self._record_edge(code, "opens", window.opens, context)

    def close_now(self, code: PhaseCode, context: DecisionContext) -> None:
        """Organiser override: close an open phase now, moving its closing to now.

        Closing a phase closes the channels inside it; a channel not yet open loses its
        opening. Boundaries that fell due by date and were not recorded yet are recorded
        first, as the scheduler's, at the instant their dates gave.
        """
        at = context.at
        self._may_decide(context, f"close {code}")
        window = self.timeline[code]
        if PhaseStatus.OPEN not in (self.phase_status[code], window.status_at(at)):
            raise InvalidTimeline(f"close {code}: it is {window.status_at(at)}, not open")
        channels = CHANNELS_OF_PHASE.get(code, ())
        phase = PHASE_OF_CHANNEL.get(code)
        for due in (*([phase] if phase else []), code, *channels):
            self._catch_up(due, context)
        changes: dict[PhaseCode, dict[Side, datetime | None]] = {}
        if window.closes is None or window.closes > at:
            changes[code] = {"closes": at}
        open_channels = [c for c in channels if self.phase_status[c] is PhaseStatus.OPEN]
        for channel in channels:
            inner = self.timeline[channel]
            if inner.closes is not None and inner.closes <= at:
                continue
            edges: dict[Side, datetime | None] = {"closes": at}
            if self.phase_status[channel] is PhaseStatus.PENDING:
                edges["opens"] = None  # it can no longer open: its phase is over
            changes[channel] = edges
        scheduled = {c: self.timeline[c].closes for c in (code, *channels)}
        if changes:
            self.amend_timeline(changes, context)
        for channel in open_channels:
            self._record_edge(channel, "closes", scheduled[channel], context)
        self._record_edge(code, "closes", scheduled[code], context)

    def _catch_up(self, code: PhaseCode, context: DecisionContext) -> None:
        """Record an opening that passed by date but is not on record, as the scheduler's."""
        window = self.timeline[code]
        if (
            self.phase_status[code] is not PhaseStatus.OPEN
            and window.status_at(context.at) is PhaseStatus.OPEN
        ):
            due = replace(context, actor=SCHEDULER, reason=None, evidence=None)
            self._record_edge(code, "opens", window.opens, due)

    def record_due_boundaries(self, context: DecisionContext) -> list[tuple[PhaseCode, Side]]:
        """Record every boundary the timeline says has passed by ``at``, in timeline order.

        Idempotent: a boundary already recorded is not recorded again. A phase that was
        closed and then extended by an amendment is recorded as opened again.
        """
        if context.actor.role not in (Role.SCHEDULER, Role.ADMIN):
            raise NotPermitted(f"record boundaries: the role {context.actor.role} may not do this")
        recorded: list[tuple[PhaseCode, Side]] = []
        at = context.at
        for instant, side, code in self.timeline.boundaries():
            if instant > at:
                break
            due = self.timeline[code].status_at(at)
            current = self.phase_status[code]
            opening = side == "opens" and current is not PhaseStatus.OPEN and due is not PhaseStatus.PENDING
            if opening and current is PhaseStatus.CLOSED and due is PhaseStatus.CLOSED:
                continue
            closing = side == "closes" and current is PhaseStatus.OPEN and due is PhaseStatus.CLOSED
            if opening or closing:
                self._require_current(context, "record boundaries")
                self._record_edge(code, side, instant, context)
                recorded.append((code, side))
        return recorded

    def set_retention(self, policy: RetentionPolicy | None, context: DecisionContext) -> None:
        """Set, change or drop how long personal data are kept; the rule version goes up."""
        action, at = "set retention", context.at
        self._may_decide(context, action)
        if self.retention_done is not None:
            done = shanghai_text(self.retention_done)
            raise RetentionRefused(f"{action}: the personal data were erased under the policy at {done}")
        checked = policy.checked() if policy is not None else None
        if checked == self.retention:
            raise RetentionRefused(f"{action}: the policy is already {checked}")
        due = checked.due(self.timeline) if checked is not None else None
        if due is not None and due < at:
            raise RetentionRefused(
                f"{action}: the data would fall due at {shanghai_text(due)}, in the past; "
                "erase people one by one with a reason instead"
            )
        self._retention_set(
            retention=checked.to_data() if checked else None,
            decision=context.recorded(self.rule_version + 1),
            timestamp=at,
        )

    @event(RetentionSet)
    def _retention_set(
        self, retention: dict[str, Any] | None, decision: Decision, timestamp: datetime
    ) -> None:
        self.retention = RetentionPolicy.from_data(retention)
        self.rule_version = decision.rule_version

    def record_retention(self, erased: int, context: DecisionContext) -> None:
        """The scheduler has erased every contestant's personal data under the policy, which the
        decision names as its reason."""
        action, at = "record retention", context.at
        if context.actor.role not in (Role.SCHEDULER, Role.ADMIN):
            raise NotPermitted(f"{action}: the role {context.actor.role} may not do this")
        due = self.retention_due
        if due is None or due > at:
            raise RetentionRefused(f"{action}: the policy is not due at {shanghai_text(at)}")
        if self.retention_done is not None:
            raise RetentionRefused(f"{action}: recorded already at {shanghai_text(self.retention_done)}")
        self._require_current(context, action)
        assert self.retention is not None  # noqa: S101 - due only with a policy
        named = replace(context, reason=self.retention.describe(self.rule_version))
        self._retention_carried_out(
            scheduled=due,
            erased=erased,
            decision=named.recorded(self.rule_version),
            timestamp=at,
        )

    @event(RetentionCarriedOut)
    def _retention_carried_out(
        self, scheduled: datetime, erased: int, decision: Decision, timestamp: datetime
    ) -> None:
        self.retention_done = timestamp

    @property
    def stored_version(self) -> int:
        """The version as last stored, whatever the decision at hand has recorded so far."""
        return self.version - len(self.pending_events)

    def _may_decide(self, context: DecisionContext, action: str) -> None:
        """An organiser's decision: permitted, with its reason, in order, on the version they saw."""
        _require_organiser(context.actor, action)
        _require_reason(context.reason, action)
        self._require_current(context, action)

    def _require_current(self, context: DecisionContext, action: str) -> None:
        context.require_current(action, "campaign", version=self.stored_version, last=self.modified_on)

    def _record_edge(
        self,
        code: PhaseCode,
        side: Side,
        scheduled: datetime | None,
        context: DecisionContext,
    ) -> None:
        kwargs: dict[str, Any] = {
            "code": code.value,
            "by": "scheduler" if context.actor.role is Role.SCHEDULER else "organiser",
            "scheduled": to_utc(scheduled),
            "decision": context.recorded(self.rule_version),
            "timestamp": context.at,
        }
        if side == "opens":
            self._phase_opened(**kwargs)
        else:
            self._phase_closed(**kwargs)

    @event(PhaseOpened)
    def _phase_opened(
        self, code: str, by: str, scheduled: datetime | None, decision: Decision, timestamp: datetime
    ) -> None:
        self.phase_status[PhaseCode(code)] = PhaseStatus.OPEN

    @event(PhaseClosed)
    def _phase_closed(
        self, code: str, by: str, scheduled: datetime | None, decision: Decision, timestamp: datetime
    ) -> None:
        self.phase_status[PhaseCode(code)] = PhaseStatus.CLOSED


def _require_organiser(actor: Actor, action: str) -> None:
    if actor.role is not Role.ADMIN:
        raise NotPermitted(f"{action}: only organisers (admin) may do this, not {actor.role}")


def _require_reason(reason: str | None, action: str) -> None:
    if not (reason and reason.strip()):
        raise ReasonRequired(f"{action}: a reason is required")


def _diff(old: Timeline, new: Timeline) -> dict[str, dict[str, list[datetime | None]]]:
    """{code: {side: [old, new]}} in UTC, for every edge that moved."""
    changes: dict[str, dict[str, list[datetime | None]]] = {}
    sides: tuple[Side, Side] = ("opens", "closes")
    for code in PhaseCode:
        for side in sides:
            before, after = old[code].edge(side), new[code].edge(side)
            if before != after:
                changes.setdefault(code.value, {})[side] = [to_utc(before), to_utc(after)]
    return changes
