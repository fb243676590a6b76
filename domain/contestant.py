"""The contestant aggregate: one person in one campaign, moved only through the lifecycle table."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.campaign import Campaign
from domain.decision import Decision, DecisionContext
from domain.errors import (
    AlreadyErased,
    DuplicatePerson,
    InvalidValue,
    NotPermitted,
    OutOfOrder,
    ReasonRequired,
)
from domain.events import ERASED, DecisionCreated, DecisionEvent, PersonRecord
from domain.ids import contestant_id
from domain.lifecycle import Status, decide
from domain.team import CityTeam, TeamRole
from domain.text import check_text
from domain.timeline import SHANGHAI, shanghai_text
from domain.values import Channel, Group, Person, Platform, Role, mask_id_number, mask_mobile

CONTEST_EVENTS = ("short_video", "account_operation", "livestream_selling")


class Contestant(Aggregate):
    """Public methods decide (and may refuse); the ``@event`` methods only record."""

    # --- the facts -------------------------------------------------------------

    class Nominated(DecisionCreated):
        """Recommended by a city or self-registered.

        :ivar person_key: keyed digest of the ID number, from which the id derives.
        :ivar channel: ``recommended`` or ``self``.
        """

        campaign_id: UUID
        person_key: str
        channel: str
        person: PersonRecord

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 stored the person as a plain mapping, the ID number beside it."""
            state["person"] = PersonRecord.from_data({**state["person"], "id_number": state.pop("id_number")})

    class Verified(DecisionEvent):
        """Eligibility confirmed."""

    class Rejected(DecisionEvent):
        """Eligibility refused; places freed."""

    class Reconsidered(DecisionEvent):
        """A rejection taken back during review; the places are taken again."""

    class Renominated(DecisionEvent):
        """A withdrawn person nominated again while a channel is open; the places are taken again.

        :ivar channel: ``recommended`` or ``self``: how this nomination came, which may differ
            from the first (a recommendation takes a city quota place, a registration none).
        :ivar person: the person as this nomination gives them (same name, city and group).
        """

        channel: str
        person: PersonRecord

    class TrainingAccountAssigned(DecisionEvent):
        """:ivar training_account: the account on the training platform."""

        training_account: str

    class Trained(DecisionEvent):
        """Online training done."""

    class Competed(DecisionEvent):
        """:ivar results: the score of each of the three contest events."""

        results: dict[str, float]

    class Advanced(DecisionEvent):
        """Picked for the city's finals team.

        :ivar team_role: ``streamer`` or ``assistant``.
        """

        team_id: UUID
        team_role: str

    class Awarded(DecisionEvent):
        """:ivar award: the prize's name."""

        award: str

    class Withdrawn(DecisionEvent):
        """Left of their own will; places and team seat freed."""

    class Disqualified(DecisionEvent):
        """Removed by the organisers; places and team seat freed."""

    class Erased(DecisionEvent):
        """The person's data were erased (PIPL art. 47): their key is destroyed after this is recorded."""

    @staticmethod
    def create_id(campaign_id: UUID, person_key: str) -> UUID:
        return contestant_id(campaign_id, person_key)

    @classmethod
    def nominate(
        cls,
        campaign: Campaign,
        person: Person,
        channel: Channel,
        context: DecisionContext,
        *,
        person_key: str,
        unit: str | None = None,
        contact: str | None = None,
    ) -> Contestant:
        trigger = "recommend" if channel is Channel.RECOMMENDED else "register"
        at = context.at
        born = person.id_number.birth_date
        # Judged at the decision's instant: values never read the clock.
        if born > at.astimezone(SHANGHAI).date():
            raise InvalidValue("id_number", f"{person.id_number.masked}: the birth date is in the future")
        decide(
            trigger,
            current=Status.NEW,
            timeline=campaign.timeline,
            actor=context.actor,
            at=at,
            city=person.city,
            group=person.group,
            reason=context.reason,
        )
        campaign.require_age(person.group, born, at, person.id_number.masked, trigger)
        return cls(
            campaign_id=campaign.id,
            person_key=person_key,
            channel=channel.value,
            person=_record_of(person, unit, contact),
            decision=context.recorded(campaign.rule_version),
            timestamp=at,
        )

    @event(Nominated)
    def __init__(
        self,
        campaign_id: UUID,
        person_key: str,
        channel: str,
        person: PersonRecord,
        decision: Decision,
        timestamp: datetime,
    ) -> None:
        self.campaign_id = campaign_id
        self.channel = Channel(channel)
        self._take_person(person)
        self.status = Status.NOMINATED
        self.training_account: str | None = None
        self.results: dict[str, float] | None = None
        self.team_role: str | None = None
        self.award: str | None = None
        self.awards: list[str] = []

    def _take_person(self, person: PersonRecord) -> None:
        self.erased = person.is_erased
        self.id_number = person.id_number
        self.name = person.name
        self.mobile = person.mobile
        self.city = person.city
        self.group = person.group
        self.platform: str = person.platform.value
        self.account = person.account
        self.followers = person.followers
        self.experience = person.experience
        self.notes = person.notes
        self.unit = person.unit
        self.contact = person.contact

    # --- derived -------------------------------------------------------------

    @property
    def holds_quota_place(self) -> bool:
        """Recommended trainees and veterans count against their city's quota."""
        return self.channel is Channel.RECOMMENDED and self.group is not Group.FAMILY

    @property
    def masked_id_number(self) -> str:
        return ERASED if self.erased else mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return ERASED if self.erased else mask_mobile(self.mobile)

    # --- decisions -----------------------------------------------------------

    def _decide(
        self, trigger: str, campaign: Campaign, context: DecisionContext, person: Person | None = None
    ) -> Decision:
        """``person``: judge a nomination again as the person it names, like any other."""
        action = trigger.replace("_", " ")
        # PIPL art. 47: once erased, the record is only kept, no longer processed; a nomination
        # naming the person again is refused by ``renominate`` as a repeat, after the checks
        # every new nomination meets.
        if self.erased and person is None:
            raise AlreadyErased(f"{action}: contestant {self.id} was erased; nothing more is decided on them")
        context.require_current(action, "contestant", version=self.version, last=self.modified_on)
        decide(
            trigger,
            current=self.status,
            timeline=campaign.timeline,
            actor=context.actor,
            at=context.at,
            city=self.city if person is None else person.city,
            group=self.group if person is None else person.group,
            reason=context.reason,
        )
        return context.recorded(campaign.rule_version)

    def verify(self, campaign: Campaign, context: DecisionContext) -> None:
        self._verified(decision=self._decide("verify", campaign, context), timestamp=context.at)

    @event(Verified)
    def _verified(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.VERIFIED

    def reject(self, campaign: Campaign, context: DecisionContext) -> None:
        self._rejected(decision=self._decide("reject", campaign, context), timestamp=context.at)

    @event(Rejected)
    def _rejected(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.REJECTED

    def reconsider(self, campaign: Campaign, context: DecisionContext) -> None:
        """A rejection taken back during review (the missing certificate came): nominated again."""
        self._reconsidered(decision=self._decide("reconsider", campaign, context), timestamp=context.at)

    @event(Reconsidered)
    def _reconsidered(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.NOMINATED

    def renominate(
        self,
        campaign: Campaign,
        person: Person,
        channel: Channel,
        context: DecisionContext,
        *,
        unit: str | None = None,
        contact: str | None = None,
    ) -> None:
        """A withdrawn person nominated again: the move the table allows from ``withdrawn``.

        The person returns under the name, city and group they entered with, where their
        places are counted and their history is read; the rest of the nomination (channel,
        mobile, account, free text) is taken as given now. The erased never return: who
        they were is gone from the record.
        """
        trigger = "recommend" if channel is Channel.RECOMMENDED else "register"
        verb = "nominate" if channel is Channel.RECOMMENDED else "register"
        who = f"the person with ID number {person.id_number.masked}"
        # Judged first as any new nomination would be, so the refusals that only a returning
        # person meets come last (a public registrant is not told who is on record).
        decision = self._decide(trigger, campaign, context, person)
        at = context.at
        campaign.require_age(person.group, person.id_number.birth_date, at, person.id_number.masked, trigger)
        if self.erased:
            raise DuplicatePerson(f"{verb}: {who} was a contestant of this campaign whose data were erased")
        if (person.name, person.city, person.group) != (self.name, self.city, self.group):
            raise DuplicatePerson(
                f"{verb}: {who} withdrew from this campaign; nominated again, they return "
                "with the name, city and group of their first nomination"
            )
        self._renominated(
            channel=channel.value, person=_record_of(person, unit, contact), decision=decision, timestamp=at
        )

    @event(Renominated)
    def _renominated(
        self, channel: str, person: PersonRecord, decision: Decision, timestamp: datetime
    ) -> None:
        self.channel = Channel(channel)
        self._take_person(person)
        self.status = Status.NOMINATED
        # A fresh start: what the earlier run reached is on record, not carried on.
        self.training_account = None
        self.results = None
        self.team_role = None
        self.award = None
        self.awards = []

    def assign_training_account(
        self, campaign: Campaign, context: DecisionContext, training_account: str
    ) -> None:
        if not training_account.strip():
            raise InvalidValue("training_account", "the training-platform account is empty")
        decision = self._decide("assign_training_account", campaign, context)
        self._training_account_assigned(
            training_account=training_account.strip(), decision=decision, timestamp=context.at
        )

    @event(TrainingAccountAssigned)
    def _training_account_assigned(
        self, training_account: str, decision: Decision, timestamp: datetime
    ) -> None:
        self.training_account = training_account
        self.status = Status.ENROLLED

    def record_training(self, campaign: Campaign, context: DecisionContext) -> None:
        self._trained(decision=self._decide("record_training", campaign, context), timestamp=context.at)

    @event(Trained)
    def _trained(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.TRAINED

    def record_results(self, campaign: Campaign, context: DecisionContext, scores: dict[str, float]) -> None:
        """Scores of the three contest events; recording again corrects them while the contest is open."""
        top = campaign.awards.score_max
        problems = {
            name: f"a score from 0 to {top:g} is required"
            for name in CONTEST_EVENTS
            if not isinstance(scores.get(name), int | float)
            or not math.isfinite(scores[name])  # NaN would pass `< 0` and poison every ranking
            or not 0 <= scores[name] <= top
        }
        problems.update({name: "not a contest event" for name in scores if name not in CONTEST_EVENTS})
        if problems:
            raise InvalidValue.many(problems)
        decision = self._decide("record_results", campaign, context)
        if self.results is not None and decision.reason is None:
            raise ReasonRequired("record results: scores already recorded are corrected only with a reason")
        results = {name: float(scores[name]) for name in CONTEST_EVENTS}
        self._competed(results=results, decision=decision, timestamp=context.at)

    @event(Competed)
    def _competed(self, results: dict[str, float], decision: Decision, timestamp: datetime) -> None:
        self.results = results
        self.status = Status.COMPETED

    def advance(self, campaign: Campaign, context: DecisionContext, team: CityTeam, role: TeamRole) -> None:
        """Pick the contestant for the city's finals team (and the offline training before it)."""
        decision = self._decide("advance", campaign, context)
        team.add(self.id, self.city, role, at=context.at)
        self._advanced(team_id=team.id, team_role=role.value, decision=decision, timestamp=context.at)

    @event(Advanced)
    def _advanced(self, team_id: UUID, team_role: str, decision: Decision, timestamp: datetime) -> None:
        self.team_role = team_role
        self.status = Status.ADVANCED

    def award_prize(self, campaign: Campaign, context: DecisionContext, award: str) -> None:
        if not award.strip():
            raise InvalidValue("award", "the award's name is empty")
        decision = self._decide("award", campaign, context)
        kind = campaign.awards.require(award, team=False)
        if kind in self.awards:
            raise InvalidValue("award", f"the contestant already has the award {kind!r}")
        self._awarded(award=kind, decision=decision, timestamp=context.at)

    @event(Awarded)
    def _awarded(self, award: str, decision: Decision, timestamp: datetime) -> None:
        self.award = award  # the latest; a person may receive several
        self.awards = [*getattr(self, "awards", []), award]
        self.status = Status.AWARDED

    def withdraw(self, campaign: Campaign, context: DecisionContext) -> None:
        self._withdrawn(decision=self._decide("withdraw", campaign, context), timestamp=context.at)

    @event(Withdrawn)
    def _withdrawn(self, decision: Decision, timestamp: datetime) -> None:
        self.team_role = None  # the team seat is given back with the places
        self.status = Status.WITHDRAWN

    def disqualify(self, campaign: Campaign, context: DecisionContext) -> None:
        self._disqualified(decision=self._decide("disqualify", campaign, context), timestamp=context.at)

    @event(Disqualified)
    def _disqualified(self, decision: Decision, timestamp: datetime) -> None:
        self.team_role = None  # the team seat is given back with the places
        self.status = Status.DISQUALIFIED

    def erase(self, campaign: Campaign, context: DecisionContext) -> None:
        """Erase the person's data: statuses, city, group and scores stay; who they are goes.

        Organisers erase with a reason; the scheduler erases once the campaign's retention
        policy falls due, naming the policy.
        """
        by_policy = context.actor.role is Role.SCHEDULER and campaign.may_erase_by_retention(context.at)
        if context.actor.role is not Role.ADMIN and not by_policy:
            raise NotPermitted(
                f"erase: the role {context.actor.role} may not do this (allowed: admin; the scheduler "
                "once the campaign's retention policy is due)"
            )
        if not (context.reason and context.reason.strip()):
            raise ReasonRequired("erase: a reason is required")
        if self.erased:
            raise AlreadyErased(f"erase: contestant {self.id} was erased already")
        if context.at < self.modified_on:
            raise OutOfOrder(
                f"erase: {shanghai_text(context.at)} is earlier than this contestant's "
                f"last recorded decision ({shanghai_text(self.modified_on)})"
            )
        self._erased(decision=context.recorded(campaign.rule_version), timestamp=context.at)

    @event(Erased)
    def _erased(self, decision: Decision, timestamp: datetime) -> None:
        self._take_person(self._record().erased())
        self.training_account = None

    def _record(self) -> PersonRecord:
        return PersonRecord(
            name=self.name,
            id_number=self.id_number,
            mobile=self.mobile,
            city=self.city,
            group=self.group,
            platform=Platform(self.platform),
            account=self.account,
            followers=self.followers,
            experience=self.experience,
            notes=self.notes,
            unit=self.unit,
            contact=self.contact,
        )


def _record_of(person: Person, unit: str | None, contact: str | None) -> PersonRecord:
    check_text({"unit": unit, "contact": contact})  # a value beside the person's, checked alike
    return PersonRecord(
        name=person.name,
        id_number=person.id_number.value,
        mobile=person.mobile.value,
        city=person.city,
        group=person.group,
        platform=person.account.platform,
        account=person.account.handle,
        followers=person.followers,
        experience=person.experience,
        notes=person.notes,
        unit=(unit or "").strip() or None,
        contact=(contact or "").strip() or None,
    )


#: The event each move of the lifecycle table records (a nomination from ``new``).
EVENT_OF_MOVE: dict[str, type[DecisionEvent]] = {
    "recommend": Contestant.Nominated,
    "register": Contestant.Nominated,
    "verify": Contestant.Verified,
    "reject": Contestant.Rejected,
    "reconsider": Contestant.Reconsidered,
    "assign_training_account": Contestant.TrainingAccountAssigned,
    "record_training": Contestant.Trained,
    "record_results": Contestant.Competed,
    "advance": Contestant.Advanced,
    "award": Contestant.Awarded,
    "withdraw": Contestant.Withdrawn,
    "disqualify": Contestant.Disqualified,
}
#: Every decision a contestant's history can hold, in the order of the table (a nomination
#: from ``withdrawn`` records ``Renominated`` on the same aggregate), then erasure.
DECISION_EVENTS: tuple[type[DecisionEvent], ...] = (
    Contestant.Nominated,
    Contestant.Renominated,
    *(kind for kind in dict.fromkeys(EVENT_OF_MOVE.values()) if kind is not Contestant.Nominated),
    Contestant.Erased,
)
