"""A city's finals team: 1 leader (bureau staff), 1 assistant, 4 to 6 streamers: 6 to 8 people."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.awards import AwardRules
from domain.decision import Decision, DecisionContext
from domain.errors import (
    InvalidTimeline,
    InvalidValue,
    NotPermitted,
    PhaseClosed,
    TeamCityMismatch,
    TeamFull,
    TeamIncomplete,
)
from domain.events import DecisionEvent
from domain.ids import team_id
from domain.text import person_name_problem, text_problem
from domain.timeline import PhaseCode, Timeline, shanghai_text
from domain.users import User
from domain.values import Role

MAX_STREAMERS = 6
MIN_STREAMERS = 4
MAX_ASSISTANTS = 1
MIN_PEOPLE, MAX_PEOPLE = 6, 8  # "每个市州6-8人": the leader, the assistant and the streamers


def completeness_gaps(has_leader: bool, assistants: int, streamers: int) -> list[str]:
    """What a team lacks to be complete (empty when complete), in words for the organisers."""
    gaps = []
    if not has_leader:
        gaps.append("no team leader")
    if assistants != MAX_ASSISTANTS:
        gaps.append(f"{assistants} assistants, not {MAX_ASSISTANTS}")
    if not MIN_STREAMERS <= streamers <= MAX_STREAMERS:
        gaps.append(f"{streamers} streamers, not {MIN_STREAMERS} to {MAX_STREAMERS}")
    return gaps


class TeamRole(StrEnum):
    STREAMER = "streamer"
    ASSISTANT = "assistant"

    @classmethod
    def parse(cls, raw: str) -> TeamRole:
        text = raw.strip().lower()
        aliases = {"主播": cls.STREAMER, "助理": cls.ASSISTANT}
        if text in aliases:
            return aliases[text]
        try:
            return cls(text)
        except ValueError:
            raise InvalidValue("role", f"{raw!r} is not streamer (主播) or assistant (助理)") from None


class CityTeam(Aggregate):
    # --- the facts -------------------------------------------------------------

    class TeamFormed(Aggregate.Created):
        """Formed when first needed: at the first pick or the leader's appointment."""

        campaign_id: UUID
        city: str

        class_version = 1

    class MemberAdded(Aggregate.Event):
        """:ivar contestant_id: the contestant's id as text. :ivar role: a ``TeamRole`` value."""

        contestant_id: str
        role: str

        class_version = 1

    class MemberRemoved(Aggregate.Event):
        """The member left (withdrawn or disqualified) and gave the seat back."""

        contestant_id: str

        class_version = 1

    class LeaderAppointed(DecisionEvent):
        """:ivar staff_user: the username of the city's staff member who leads."""

        name: str
        staff_user: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 stored the actor and the rule version beside the names, not a ``Decision``.

            Appointments recorded before the rule version was read ``None`` for it: which
            version was in force is not on record, and guessing one would rewrite history.
            """
            actor, rule_version = state.pop("actor"), state.pop("rule_version", None)
            state["decision"] = Decision(actor=actor, rule_version=rule_version)

    class FinalsEntered(DecisionEvent):
        """:ivar overridden: entered incomplete, by an organiser. :ivar gaps: what it lacked then."""

        overridden: bool
        gaps: list[str]

        class_version = 1

    class TeamAwarded(DecisionEvent):
        """:ivar award: the team prize's name (e.g. 优秀组织奖)."""

        award: str

        class_version = 1

    # Defaults for snapshots taken before these were recorded (a snapshot restores the state as saved).
    entered_finals = False
    awards: tuple[str, ...] = ()

    @staticmethod
    def create_id(campaign_id: UUID, city: str) -> UUID:
        return team_id(campaign_id, city)

    @event(TeamFormed)
    def __init__(self, campaign_id: UUID, city: str, timestamp: datetime) -> None:
        self.campaign_id = campaign_id
        self.city = city
        self.leader: dict[str, str] | None = None
        self.members: dict[str, str] = {}  # contestant id -> TeamRole value
        self.entered_finals = False
        self.awards = ()

    def count(self, role: TeamRole) -> int:
        return sum(1 for r in self.members.values() if r == role.value)

    @property
    def gaps(self) -> list[str]:
        return completeness_gaps(
            self.leader is not None, self.count(TeamRole.ASSISTANT), self.count(TeamRole.STREAMER)
        )

    @property
    def is_complete(self) -> bool:
        """1 leader, 1 assistant and 4 to 6 streamers (so 6 to 8 people), as the notice says."""
        return not self.gaps

    def add(self, contestant_id: UUID, city: str, role: TeamRole, *, at: datetime) -> None:
        if city != self.city:
            raise TeamCityMismatch(f"advance: a contestant of {city} cannot join the team of {self.city}")
        limit = MAX_STREAMERS if role is TeamRole.STREAMER else MAX_ASSISTANTS
        if self.count(role) >= limit:
            raise TeamFull(f"advance: the {self.city} team already has {limit} {role}(s)")
        self._member_added(contestant_id=str(contestant_id), role=role.value, timestamp=at)

    @event(MemberAdded)
    def _member_added(self, contestant_id: str, role: str, timestamp: datetime) -> None:
        self.members[contestant_id] = role

    def remove(self, contestant_id: UUID, *, at: datetime) -> None:
        if str(contestant_id) in self.members:
            self._member_removed(contestant_id=str(contestant_id), timestamp=at)

    @event(MemberRemoved)
    def _member_removed(self, contestant_id: str, timestamp: datetime) -> None:
        del self.members[contestant_id]

    @property
    def stored_version(self) -> int:
        """The version as last stored: 0 while the team is being formed by the decision at hand."""
        return self.version - len(self.pending_events)

    def _recorded(self, action: str, context: DecisionContext, rule_version: int) -> Decision:
        """The decision as its event records it, if taken in order and on the version the caller saw.

        Checked once the caller may decide, so nobody else learns how far the team has moved.
        """
        context.require_current(action, "team", version=self.stored_version, last=self.modified_on)
        return context.recorded(rule_version)

    def appoint_leader(
        self,
        context: DecisionContext,
        *,
        name: str,
        staff_user: str,
        appointee: User | None,
        rule_version: int = 1,
    ) -> bool:
        """The team leader is a staff member of the city bureau, not a contestant.

        ``appointee`` is the user named ``staff_user``, or None when there is none. Appointing
        the leader the team already has records nothing (returns False).
        """
        actor = context.actor
        if actor.role not in (Role.ADMIN, Role.CITY_STAFF):
            raise NotPermitted(f"appoint leader: the role {actor.role} may not do this")
        if actor.role is Role.CITY_STAFF and actor.city != self.city:
            raise NotPermitted(
                f"appoint leader: staff of {actor.city} may not appoint the leader of the {self.city} team"
            )
        decision = self._recorded("appoint leader", context, rule_version)
        # The caller is checked first, so nobody else learns which usernames exist.
        if not name.strip() or not staff_user.strip():
            raise InvalidValue("leader", "the leader's name and staff user id are required")
        if (unnamed := text_problem(name) or person_name_problem(name.strip())) is not None:
            raise InvalidValue("name", unnamed)
        if appointee is None:
            raise InvalidValue("staff_user", f"no user is named {staff_user.strip()!r}")
        if appointee.role is not Role.CITY_STAFF or appointee.city != self.city:
            raise InvalidValue(
                "staff_user",
                f"the team leader must be staff of {self.city}, which {appointee.username!r} is not",
            )
        leader = {"name": name.strip(), "staff_user": appointee.username}
        if leader == self.leader:
            return False
        self._leader_appointed(**leader, decision=decision, timestamp=context.at)
        return True

    @event(LeaderAppointed)
    def _leader_appointed(self, name: str, staff_user: str, decision: Decision, timestamp: datetime) -> None:
        self.leader = {"name": name, "staff_user": staff_user}

    def enter_finals(self, timeline: Timeline, rule_version: int, context: DecisionContext) -> None:
        """Enter the team for the finals: complete, or incomplete by an organiser's override with a reason.

        Possible from the end of the contest (when teams are picked) until the finals close.
        """
        actor, at, reason = context.actor, context.at, context.reason
        if actor.role not in (Role.ADMIN, Role.CITY_STAFF):
            raise NotPermitted(f"enter finals: the role {actor.role} may not do this")
        if actor.role is Role.CITY_STAFF and actor.city != self.city:
            raise NotPermitted(f"enter finals: staff of {actor.city} may not enter the {self.city} team")
        decision = self._recorded("enter finals", context, rule_version)
        if self.entered_finals:
            raise InvalidTimeline(f"enter finals: the {self.city} team is already entered")
        starts, ends = timeline[PhaseCode.CONTEST].closes, timeline[PhaseCode.FINALS].closes
        if starts is None or at < starts:
            raise PhaseClosed("enter finals: teams are entered once the contest has closed")
        if ends is not None and at >= ends:
            raise PhaseClosed(f"enter finals: the finals closed at {shanghai_text(ends)}")
        gaps = self.gaps
        overridden = bool(gaps)
        if overridden and not (actor.role is Role.ADMIN and reason and reason.strip()):
            raise TeamIncomplete(
                f"enter finals: the {self.city} team is incomplete ({'; '.join(gaps)}); "
                "only an organiser (admin) may enter it, with a reason"
            )
        self._finals_entered(overridden=overridden, gaps=gaps, decision=decision, timestamp=at)

    @event(FinalsEntered)
    def _finals_entered(
        self, overridden: bool, gaps: list[str], decision: Decision, timestamp: datetime
    ) -> None:
        self.entered_finals = True

    def award_team(
        self, kind: str, rules: AwardRules, timeline: Timeline, rule_version: int, context: DecisionContext
    ) -> None:
        """A team prize (e.g. 优秀组织奖) for the city, by organisers, during the finals or the ceremony."""
        actor, at = context.actor, context.at
        if actor.role is not Role.ADMIN:
            raise NotPermitted(f"award team: only organisers (admin) may do this, not {actor.role}")
        decision = self._recorded("award team", context, rule_version)
        name = rules.require(kind, team=True)
        if name in self.awards:
            raise InvalidValue("award", f"the {self.city} team already has the award {name!r}")
        opens, closes = timeline[PhaseCode.FINALS].opens, timeline[PhaseCode.CEREMONY].closes
        if opens is None or at < opens or (closes is not None and at >= closes):
            raise PhaseClosed(
                "award team: team prizes are awarded from the finals to the end of the ceremony"
            )
        self._team_awarded(award=name, decision=decision, timestamp=at)

    @event(TeamAwarded)
    def _team_awarded(self, award: str, decision: Decision, timestamp: datetime) -> None:
        self.awards = (*self.awards, award)
