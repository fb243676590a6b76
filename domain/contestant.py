"""The contestant aggregate: one person in one campaign, moved only through the lifecycle table."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.campaign import Campaign
from domain.decision import Decision
from domain.errors import InvalidValue, OutOfOrder, ReasonRequired, VersionConflict
from domain.ids import contestant_id
from domain.lifecycle import Status, decide
from domain.team import CityTeam, TeamRole
from domain.timeline import SHANGHAI, shanghai_text
from domain.values import Actor, Channel, Group, Person, mask_id_number, mask_mobile

CONTEST_EVENTS = ("short_video", "account_operation", "livestream_selling")


class Contestant(Aggregate):
    """Public methods decide (and may refuse); the ``@event`` methods only record."""

    @staticmethod
    def create_id(campaign_id: UUID, person_key: str) -> UUID:
        return contestant_id(campaign_id, person_key)

    @classmethod
    def nominate(
        cls,
        campaign: Campaign,
        person: Person,
        channel: Channel,
        *,
        person_key: str,
        actor: Actor,
        at: datetime,
        unit: str | None = None,
        contact: str | None = None,
        reason: str | None = None,
        evidence: str | None = None,
    ) -> Contestant:
        trigger = "recommend" if channel is Channel.RECOMMENDED else "register"
        # Judged at the decision's instant: values never read the clock.
        if person.id_number.birth_date > at.astimezone(SHANGHAI).date():
            raise InvalidValue("id_number", f"{person.id_number.masked}: the birth date is in the future")
        decide(
            trigger,
            current=Status.NEW,
            timeline=campaign.timeline,
            actor=actor,
            at=at,
            city=person.city,
            group=person.group,
            reason=reason,
        )
        campaign.require_age(person.group, person.id_number.birth_date, at, person.id_number.masked, trigger)
        return cls(
            campaign_id=campaign.id,
            person_key=person_key,
            id_number=person.id_number.value,
            channel=channel.value,
            person={
                "name": person.name,
                "mobile": person.mobile.value,
                "city": person.city,
                "group": person.group.value,
                "platform": person.account.platform.value,
                "account": person.account.handle,
                "followers": person.followers,
                "experience": person.experience,
                "notes": person.notes,
                "unit": (unit or "").strip() or None,
                "contact": (contact or "").strip() or None,
            },
            decision=Decision.of(actor, campaign.rule_version, reason, evidence),
            timestamp=at,
        )

    @event("Nominated")
    def __init__(
        self,
        campaign_id: UUID,
        person_key: str,
        id_number: str,
        channel: str,
        person: dict[str, Any],
        decision: Decision,
        timestamp: datetime,
    ) -> None:
        self.campaign_id = campaign_id
        self.id_number = id_number
        self.channel = Channel(channel)
        self.name: str = person["name"]
        self.mobile: str = person["mobile"]
        self.city: str = person["city"]
        self.group = Group(person["group"])
        self.platform: str = person["platform"]
        self.account: str = person["account"]
        self.followers: int = person["followers"]
        self.experience: str = person["experience"]
        self.notes: str = person["notes"]
        self.unit: str | None = person["unit"]
        self.contact: str | None = person["contact"]
        self.status = Status.NOMINATED
        self.training_account: str | None = None
        self.results: dict[str, float] | None = None
        self.team_role: str | None = None
        self.award: str | None = None
        self.awards: list[str] = []

    # --- derived -------------------------------------------------------------

    @property
    def holds_quota_place(self) -> bool:
        """Recommended trainees and veterans count against their city's quota."""
        return self.channel is Channel.RECOMMENDED and self.group is not Group.FAMILY

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)

    # --- decisions -----------------------------------------------------------

    def _decide(
        self,
        trigger: str,
        campaign: Campaign,
        actor: Actor,
        at: datetime,
        reason: str | None,
        evidence: str | None,
        expected_version: int | None,
    ) -> Decision:
        if at < self.modified_on:
            raise OutOfOrder(
                f"{trigger.replace('_', ' ')}: {shanghai_text(at)} is earlier than this contestant's "
                f"last recorded decision ({shanghai_text(self.modified_on)})"
            )
        if expected_version is not None and expected_version != self.version:
            raise VersionConflict(
                f"{trigger.replace('_', ' ')}: the contestant is at version {self.version}, "
                f"not {expected_version}; reload and decide again"
            )
        decide(
            trigger,
            current=self.status,
            timeline=campaign.timeline,
            actor=actor,
            at=at,
            city=self.city,
            group=self.group,
            reason=reason,
        )
        return Decision.of(actor, campaign.rule_version, reason, evidence)

    def verify(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        decision = self._decide("verify", campaign, actor, at, reason, evidence, expected_version)
        self._verified(decision=decision, timestamp=at)

    @event("Verified")
    def _verified(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.VERIFIED

    def reject(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        decision = self._decide("reject", campaign, actor, at, reason, evidence, expected_version)
        self._rejected(decision=decision, timestamp=at)

    @event("Rejected")
    def _rejected(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.REJECTED

    def reconsider(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None,
        evidence: str | None = None,
    ) -> None:
        decision = self._decide("reconsider", campaign, actor, at, reason, evidence, None)
        self._reconsidered(decision=decision, timestamp=at)

    @event("Reconsidered")
    def _reconsidered(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.NOMINATED

    def assign_training_account(
        self,
        campaign: Campaign,
        training_account: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        if not training_account.strip():
            raise InvalidValue("training_account", "the training-platform account is empty")
        decision = self._decide(
            "assign_training_account", campaign, actor, at, reason, evidence, expected_version
        )
        self._training_account_assigned(
            training_account=training_account.strip(), decision=decision, timestamp=at
        )

    @event("TrainingAccountAssigned")
    def _training_account_assigned(
        self, training_account: str, decision: Decision, timestamp: datetime
    ) -> None:
        self.training_account = training_account
        self.status = Status.ENROLLED

    def record_training(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        decision = self._decide("record_training", campaign, actor, at, reason, evidence, expected_version)
        self._trained(decision=decision, timestamp=at)

    @event("Trained")
    def _trained(self, decision: Decision, timestamp: datetime) -> None:
        self.status = Status.TRAINED

    def record_results(
        self,
        campaign: Campaign,
        scores: dict[str, float],
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
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
        decision = self._decide("record_results", campaign, actor, at, reason, evidence, expected_version)
        if self.results is not None and decision.reason is None:
            raise ReasonRequired("record results: scores already recorded are corrected only with a reason")
        self._competed(results={n: float(scores[n]) for n in CONTEST_EVENTS}, decision=decision, timestamp=at)

    @event("Competed")
    def _competed(self, results: dict[str, float], decision: Decision, timestamp: datetime) -> None:
        self.results = results
        self.status = Status.COMPETED

    def advance(
        self,
        campaign: Campaign,
        team: CityTeam,
        role: TeamRole,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Pick the contestant for the city's finals team (and the offline training before it)."""
        decision = self._decide("advance", campaign, actor, at, reason, evidence, expected_version)
        team.add(self.id, self.city, role, at=at)
        self._advanced(team_id=team.id, team_role=role.value, decision=decision, timestamp=at)

    @event("Advanced")
    def _advanced(self, team_id: UUID, team_role: str, decision: Decision, timestamp: datetime) -> None:
        self.team_role = team_role
        self.status = Status.ADVANCED

    def award_prize(
        self,
        campaign: Campaign,
        award: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        if not award.strip():
            raise InvalidValue("award", "the award's name is empty")
        decision = self._decide("award", campaign, actor, at, reason, evidence, expected_version)
        kind = campaign.awards.require(award, team=False)
        if kind in self.awards:
            raise InvalidValue("award", f"the contestant already has the award {kind!r}")
        self._awarded(award=kind, decision=decision, timestamp=at)

    @event("Awarded")
    def _awarded(self, award: str, decision: Decision, timestamp: datetime) -> None:
        self.award = award  # the latest; a person may receive several
        self.awards = [*getattr(self, "awards", []), award]
        self.status = Status.AWARDED

    def withdraw(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        decision = self._decide("withdraw", campaign, actor, at, reason, evidence, expected_version)
        self._withdrawn(decision=decision, timestamp=at)

    @event("Withdrawn")
    def _withdrawn(self, decision: Decision, timestamp: datetime) -> None:
        self.team_role = None  # the team seat is given back with the places
        self.status = Status.WITHDRAWN

    def disqualify(
        self,
        campaign: Campaign,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        decision = self._decide("disqualify", campaign, actor, at, reason, evidence, expected_version)
        self._disqualified(decision=decision, timestamp=at)

    @event("Disqualified")
    def _disqualified(self, decision: Decision, timestamp: datetime) -> None:
        self.team_role = None  # the team seat is given back with the places
        self.status = Status.DISQUALIFIED
