"""A city's finals team: 1 leader (bureau staff), 1 assistant, 4 to 6 streamers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotPermitted, TeamCityMismatch, TeamFull
from domain.ids import team_id
from domain.users import User
from domain.values import Actor, Role

MAX_STREAMERS = 6
MIN_STREAMERS = 4
MAX_ASSISTANTS = 1


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
    @staticmethod
    def create_id(campaign_id: UUID, city: str) -> UUID:
        return team_id(campaign_id, city)

    @event("TeamFormed")
    def __init__(self, campaign_id: UUID, city: str, timestamp: datetime) -> None:
        self.campaign_id = campaign_id
        self.city = city
        self.leader: dict[str, str] | None = None
        self.members: dict[str, str] = {}  # contestant id -> TeamRole value

    def count(self, role: TeamRole) -> int:
        return sum(1 for r in self.members.values() if r == role.value)

    @property
    def is_complete(self) -> bool:
        return MIN_STREAMERS <= self.count(TeamRole.STREAMER) <= MAX_STREAMERS

    def add(self, contestant_id: UUID, city: str, role: TeamRole, *, at: datetime) -> None:
        if city != self.city:
            raise TeamCityMismatch(f"advance: a contestant of {city} cannot join the team of {self.city}")
        limit = MAX_STREAMERS if role is TeamRole.STREAMER else MAX_ASSISTANTS
        if self.count(role) >= limit:
            raise TeamFull(f"advance: the {self.city} team already has {limit} {role}(s)")
        self._member_added(contestant_id=str(contestant_id), role=role.value, timestamp=at)

    @event("MemberAdded")
    def _member_added(self, contestant_id: str, role: str, timestamp: datetime) -> None:
        self.members[contestant_id] = role

    def remove(self, contestant_id: UUID, *, at: datetime) -> None:
        if str(contestant_id) in self.members:
            self._member_removed(contestant_id=str(contestant_id), timestamp=at)

    @event("MemberRemoved")
    def _member_removed(self, contestant_id: str, timestamp: datetime) -> None:
        del self.members[contestant_id]

    def appoint_leader(
        self, *, name: str, staff_user: str, appointee: User | None, actor: Actor, at: datetime
    ) -> None:
        """The team leader is a staff member of the city bureau, not a contestant.

        ``appointee`` is the user named ``staff_user``, or None when there is none.
        """
        if actor.role not in (Role.ADMIN, Role.CITY_STAFF):
            raise NotPermitted(f"appoint leader: the role {actor.role} may not do this")
        if actor.role is Role.CITY_STAFF and actor.city != self.city:
            raise NotPermitted(
                f"appoint leader: staff of {actor.city} may not appoint the leader of the {self.city} team"
            )
        # The caller is checked first, so nobody else learns which usernames exist.
        if not name.strip() or not staff_user.strip():
            raise InvalidValue("leader", "the leader's name and staff user id are required")
        if appointee is None:
            raise InvalidValue("staff_user", f"no user is named {staff_user.strip()!r}")
        if appointee.role is not Role.CITY_STAFF or appointee.city != self.city:
            raise InvalidValue(
                "staff_user",
                f"the team leader must be staff of {self.city}, which {appointee.username!r} is not",
            )
        self._leader_appointed(name=name.strip(), staff_user=appointee.username, actor=actor, timestamp=at)

    @event("LeaderAppointed")
    def _leader_appointed(self, name: str, staff_user: str, actor: Actor, timestamp: datetime) -> None:
        self.leader = {"name": name, "staff_user": staff_user}
