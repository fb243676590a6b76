"""Use cases of the campaign: load aggregates, let them decide, save all changes at once."""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from itertools import takewhile
from typing import Any, ClassVar, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, EventSourcingError
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    OperationalError,
)
from eventsourcing.utils import Environment, EnvType, TopicError

from application.errors import (
    CampaignExists,
    CampaignNotFound,
    Contended,
    ContestantNotFound,
    NotFound,
    NothingStored,
    StoreUnavailable,
)
from application.history import HistoryEntry, history_of
from application.recorders import UNCHANGED
from application.transcodings import ActorAsDict, DecisionAsDict
from domain.access import PersonalDataLog, personal_data_log_id
from domain.ages import AgeRule
from domain.answers import RecordedAnswer, answer_id
from domain.awards import AwardRules
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.enrolment import contestant_scopes, free_places, take_places
from domain.errors import DuplicateAccount, DuplicatePerson, InvalidValue
from domain.ids import account_claim_id, allotment_id, campaign_id, contestant_id, team_id
from domain.places import AccountClaim, Allotment
from domain.team import CityTeam, TeamRole
from domain.timeline import PhaseCode, Side, Timeline, from_template, require_aware, to_utc
from domain.users import DuplicateUser, User, user_id
from domain.values import SCHEDULER, Actor, Channel, Group, Person, ResidentId, Role

T = TypeVar("T")
P = ParamSpec("P")
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 40
PSEUDONYM_KEY = "PSEUDONYM_KEY"
_RECORDERS = {
    "eventsourcing.postgres": "application.recorders:PostgresCampaignRecorder",
    "eventsourcing.sqlite": "application.recorders:SQLiteCampaignRecorder",
}


def _utc_instant(method: Callable[P, T]) -> Callable[P, T]:
    """Decisions are stored in UTC; an instant without a time zone is refused."""

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for key in ("at", "as_of"):
            instant = kwargs.get(key)
            if instant is None:
                continue
            if not isinstance(instant, datetime):
                raise InvalidValue(key, f"an instant with a time zone is required, not {instant!r}")
            kwargs[key] = to_utc(require_aware(instant, key))
        return method(*args, **kwargs)

    return wrapper


class CampaignService(Application[UUID]):
    """The campaign's use cases. Every method takes the acting user and the instant."""

    name = "Zhanyou"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Allotment: 100, CityTeam: 50}

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Only our settings configure the store: stray POSTGRES_* or CIPHER_KEY
        # variables in the process environment must not redirect or decrypt it.
        merged = {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})}
        recorder = _RECORDERS.get(str(merged.get("PERSISTENCE_MODULE")))
        if recorder is not None:  # decisions are refused in the insert if their campaign moved
            merged["APPLICATION_RECORDER_TOPIC"] = recorder
        return Environment(name, merged)

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self._pseudonym_key = self.env.get(PSEUDONYM_KEY, "").encode()

    def pseudonym(self, text: str) -> str:
        """A keyed digest, so ids derived from an ID number or a handle cannot be reversed."""
        if not self._pseudonym_key:
            return text
        return hmac.new(self._pseudonym_key, text.encode(), hashlib.sha256).hexdigest()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DecisionAsDict())

    # --- the campaign --------------------------------------------------------

    @_utc_instant
    def launch_campaign(
        self,
        name: str,
        *,
        actor: Actor,
        at: datetime,
        template: str | None = "hubei-2021",
        start: date | None = None,
        timeline: Timeline | None = None,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]] | None = None,
        quotas: Mapping[str, Mapping[Group, int]] | None = None,
        caps: Mapping[Group, int] | None = None,
        age_rules: Mapping[Group, AgeRule] | None = None,
        awards: AwardRules | None = None,
    ) -> UUID:
        """Launch from a template (optionally shifted to ``start``) and/or explicit dates."""
        existing = campaign_id(name)
        if self._exists(existing):
            raise CampaignExists(name, existing)
        base = timeline or from_template(template or "hubei-2021", start)
        if changes:
            base = base.amended(changes)
        campaign = Campaign.launch(
            name=name,
            timeline=base,
            actor=actor,
            at=at,
            template=template if timeline is None else None,
            quotas=quotas,
            caps=caps,
            age_rules=age_rules,
            awards=awards,
        )
        self._save_translating(campaign, on_conflict=lambda: CampaignExists(name, campaign.id))
        return campaign.id

    @_utc_instant
    def amend_timeline(
        self,
        campaign_id: UUID,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]],
        *,
        reason: str,
        actor: Actor,
        at: datetime,
    ) -> int:
        """Returns the new rule version."""

        def act(campaign: Campaign) -> int:
            campaign.amend_timeline(changes, reason=reason, actor=actor, at=at)
            return campaign.rule_version

        return self._on_campaign(campaign_id, act)

    @_utc_instant
    def open_phase(
        self, campaign_id: UUID, code: PhaseCode, *, reason: str, actor: Actor, at: datetime
    ) -> None:
        self._on_campaign(campaign_id, lambda c: c.open_now(code, reason=reason, actor=actor, at=at))

    @_utc_instant
    def close_phase(
        self, campaign_id: UUID, code: PhaseCode, *, reason: str, actor: Actor, at: datetime
    ) -> None:
        self._on_campaign(campaign_id, lambda c: c.close_now(code, reason=reason, actor=actor, at=at))

    @_utc_instant
    def record_due_boundaries(
        self, campaign_id: UUID, *, at: datetime, actor: Actor = SCHEDULER
    ) -> list[tuple[PhaseCode, Side]]:
        """Record every phase and channel boundary due by ``at``; idempotent, in timeline order."""
        return self._on_campaign(campaign_id, lambda c: c.record_due_boundaries(actor=actor, at=at))

    def get_campaign(self, campaign_id: UUID) -> Campaign:
        return self._get(Campaign, campaign_id, CampaignNotFound)

    # --- contestants ---------------------------------------------------------

    @_utc_instant
    def nominate(
        self,
        campaign_id: UUID,
        person: Person,
        channel: Channel,
        *,
        actor: Actor,
        at: datetime,
        unit: str | None = None,
        contact: str | None = None,
        reason: str | None = None,
        evidence: str | None = None,
    ) -> Contestant:
        """Recommend (city staff) or self-register (public) one person."""

        def attempt() -> Contestant:
            campaign = self.get_campaign(campaign_id)
            contestant = Contestant.nominate(
                campaign, person, channel, person_key=self.pseudonym(person.id_number.value),
                actor=actor, at=at, unit=unit, contact=contact, reason=reason, evidence=evidence,
            )  # fmt: skip
            verb = "register" if channel is Channel.SELF else "nominate"
            if self._exists(contestant.id):
                # Not echoed to anonymous callers (the refusal itself still tells them; it is
                # rate-limited per address).
                who = (
                    "a person with this ID number"
                    if actor.role is Role.PUBLIC
                    else f"the person with ID number {person.id_number.masked}"
                )
                raise DuplicatePerson(f"{verb}: {who} is already a contestant of this campaign")
            account = person.account
            account_key = self.pseudonym(account.key)
            if self._exists(account_claim_id(campaign.id, account_key)):
                raise DuplicateAccount(
                    f"{verb}: the {account.platform} account {account.handle!r} "
                    "already belongs to another contestant"
                )
            claim = AccountClaim.claim(campaign.id, account_key, contestant.id, at)
            allotments = self._allotments(campaign.id, contestant_scopes(contestant), at)
            take_places(contestant, campaign, allotments, at)
            self.save(contestant, claim, *allotments.values(), **_unchanged(campaign))
            return contestant

        return self._retrying(attempt)

    @_utc_instant
    def verify(
        self,
        contestant_id: UUID,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._on_contestant(contestant_id, lambda c, campaign: c.verify(
            campaign, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version))  # fmt: skip

    @_utc_instant
    def reject(
        self,
        contestant_id: UUID,
        *,
        actor: Actor,
        at: datetime,
        reason: str,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._leave(contestant_id, lambda c, campaign: c.reject(
            campaign, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version), at)  # fmt: skip

    @_utc_instant
    def reconsider(
        self, contestant_id: UUID, *, actor: Actor, at: datetime, reason: str, evidence: str | None = None
    ) -> int:
        """A rejected person back to review, retaking their places under the quota."""

        def act(contestant: Contestant, campaign: Campaign) -> Sequence[Aggregate]:
            contestant.reconsider(campaign, actor=actor, at=at, reason=reason, evidence=evidence)
            allotments = self._allotments(campaign.id, contestant_scopes(contestant), at)
            take_places(contestant, campaign, allotments, at)
            return list(allotments.values())

        return self._on_contestant(contestant_id, act)

    @_utc_instant
    def assign_training_account(
        self,
        contestant_id: UUID,
        training_account: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._on_contestant(contestant_id, lambda c, campaign: c.assign_training_account(
            campaign, training_account, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version))  # fmt: skip

    @_utc_instant
    def record_training(
        self,
        contestant_id: UUID,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._on_contestant(contestant_id, lambda c, campaign: c.record_training(
            campaign, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version))  # fmt: skip

    @_utc_instant
    def record_results(
        self,
        contestant_id: UUID,
        scores: dict[str, float],
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._on_contestant(contestant_id, lambda c, campaign: c.record_results(
            campaign, scores, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version))  # fmt: skip

    @_utc_instant
    def advance(
        self,
        contestant_id: UUID,
        role: TeamRole,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        def act(contestant: Contestant, campaign: Campaign) -> Sequence[Aggregate]:
            team = self._team(campaign.id, contestant.city, at)
            contestant.advance(
                campaign,
                team,
                role,
                actor=actor,
                at=at,
                reason=reason,
                evidence=evidence,
                expected_version=expected_version,
            )
            return [team]

        return self._on_contestant(contestant_id, act)

    @_utc_instant
    def award(
        self,
        contestant_id: UUID,
        award: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._on_contestant(contestant_id, lambda c, campaign: c.award_prize(
            campaign, award, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version))  # fmt: skip

    @_utc_instant
    def withdraw(
        self,
        contestant_id: UUID,
        *,
        actor: Actor,
        at: datetime,
        reason: str,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._leave(contestant_id, lambda c, campaign: c.withdraw(
            campaign, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version), at)  # fmt: skip

    @_utc_instant
    def disqualify(
        self,
        contestant_id: UUID,
        *,
        actor: Actor,
        at: datetime,
        reason: str,
        evidence: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        return self._leave(contestant_id, lambda c, campaign: c.disqualify(
            campaign, actor=actor, at=at, reason=reason, evidence=evidence,
            expected_version=expected_version), at)  # fmt: skip

    @_utc_instant
    def appoint_team_leader(
        self, campaign_id: UUID, city: str, *, name: str, staff_user: str, actor: Actor, at: datetime
    ) -> None:
        def attempt() -> None:
            campaign = self.get_campaign(campaign_id)
            team = self._team(campaign_id, city, at)
            appointee = self.get_user(user_id(staff_user))
            team.appoint_leader(name=name, staff_user=staff_user, appointee=appointee, actor=actor, at=at,
                                rule_version=campaign.rule_version)  # fmt: skip
            if team.pending_events:
                self.save(team, **_unchanged(campaign))

        self._retrying(attempt)

    @_utc_instant
    def award_team(
        self,
        campaign_id: UUID,
        city: str,
        kind: str,
        *,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
    ) -> CityTeam:
        def attempt() -> CityTeam:
            campaign = self.get_campaign(campaign_id)
            team = self._team(campaign_id, city, at)
            team.award_team(kind, campaign.awards, campaign.timeline, campaign.rule_version,
                            actor=actor, at=at, reason=reason)  # fmt: skip
            self.save(team, **_unchanged(campaign))
            return team

        return self._retrying(attempt)

    @_utc_instant
    def enter_team_for_finals(
        self, campaign_id: UUID, city: str, *, actor: Actor, at: datetime, reason: str | None = None
    ) -> CityTeam:
        """A complete team, or an incomplete one by an organiser's override with a reason."""

        def attempt() -> CityTeam:
            campaign = self.get_campaign(campaign_id)
            team = self._team(campaign_id, city, at)
            team.enter_finals(campaign.timeline, campaign.rule_version, actor=actor, at=at, reason=reason)
            self.save(team, **_unchanged(campaign))
            return team

        return self._retrying(attempt)

    # --- queries -------------------------------------------------------------

    @_utc_instant
    def get_contestant(
        self, contestant_id: UUID, *, version: int | None = None, as_of: datetime | None = None
    ) -> Contestant:
        """Current state, or as it was at a version or at an instant."""
        if as_of is not None:
            with _store_errors():
                events = list(self.events.get(contestant_id))
            earlier = list(takewhile(lambda e: _timestamp(e) <= as_of, events))
            if not events:
                raise ContestantNotFound(contestant_id)
            if not earlier:
                raise NotFound(f"contestant {contestant_id} did not exist yet at {as_of.isoformat()}")
            version = earlier[-1].originator_version
        return self._get(Contestant, contestant_id, ContestantNotFound, version=version)

    def find_contestant(self, campaign_id: UUID, id_number: str) -> Contestant:
        key = self.pseudonym(ResidentId.parse(id_number).value)
        return self.get_contestant(contestant_id(campaign_id, key))

    def history(self, contestant_id: UUID) -> list[HistoryEntry]:
        """Every decision on one contestant; other aggregates' ids are not found here."""
        with _store_errors():
            events = list(self.events.get(contestant_id))
        if not events or not isinstance(events[0], Contestant.Nominated):  # type: ignore[attr-defined]
            raise ContestantNotFound(contestant_id)
        return history_of(events)

    def get_team(self, campaign_id: UUID, city: str) -> CityTeam | None:
        try:
            return self._get(CityTeam, team_id(campaign_id, city), NothingStored)
        except NothingStored:
            return None

    def places_taken(self, campaign_id: UUID, scope: str) -> int:
        try:
            return self._get(Allotment, allotment_id(campaign_id, scope), NothingStored).taken
        except NothingStored:
            return 0

    # --- machinery -----------------------------------------------------------

    def _on_campaign(self, campaign_id: UUID, act: Callable[[Campaign], T]) -> T:
        def attempt() -> T:
            campaign = self.get_campaign(campaign_id)
            result = act(campaign)
            if campaign.pending_events:
                self.save(campaign)
            return result

        return self._retrying(attempt)

    def _on_contestant(
        self,
        contestant_id: UUID,
        act: Callable[[Contestant, Campaign], Sequence[Aggregate] | None],
    ) -> int:
        """Load, decide, save the contestant with whatever else changed; return its version."""

        def attempt() -> int:
            contestant = self.get_contestant(contestant_id)
            campaign = self.get_campaign(contestant.campaign_id)
            others = act(contestant, campaign) or ()
            self.save(contestant, *others, **_unchanged(campaign))
            return contestant.version

        return self._retrying(attempt)

    def _leave(self, contestant_id: UUID, act: Callable[[Contestant, Campaign], None], at: datetime) -> int:
        """Reject, withdraw, disqualify: the contestant's places and team seat are freed."""

        def act_and_free(contestant: Contestant, campaign: Campaign) -> Sequence[Aggregate]:
            act(contestant, campaign)
            allotments = self._allotments(campaign.id, contestant_scopes(contestant), at)
            team = self.get_team(campaign.id, contestant.city)
            free_places(contestant, allotments, team, at)
            return [*allotments.values(), *([team] if team else [])]

        return self._on_contestant(contestant_id, act_and_free)

    def _allotments(self, campaign_id: UUID, scopes: Iterable[str], at: datetime) -> dict[str, Allotment]:
        found: dict[str, Allotment] = {}
        for scope in scopes:
            try:
                found[scope] = self._get(Allotment, allotment_id(campaign_id, scope), NothingStored)
            except NothingStored:
                found[scope] = Allotment(campaign_id=campaign_id, scope=scope, timestamp=at)
        return found

    def _team(self, campaign_id: UUID, city: str, at: datetime) -> CityTeam:
        return self.get_team(campaign_id, city) or CityTeam(campaign_id=campaign_id, city=city, timestamp=at)

    def _get(
        self,
        kind: type[A],
        aggregate_id: UUID,
        missing: Callable[[UUID], NotFound],
        version: int | None = None,
    ) -> A:
        try:
            with _store_errors():
                aggregate: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise missing(aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise missing(aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        with _store_errors():
            return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Run a decide-and-save attempt, again on fresh state while writers collide.

        A collision means another command changed an aggregate this one read; deciding
        again on fresh state yields either success or the real refusal (quota full,
        duplicate, wrong state), never a bare version conflict.
        """
        for attempt_number in range(1, MAX_ATTEMPTS + 1):
            try:
                with _store_errors():
                    return attempt()
            except IntegrityError:  # a lost race, or the campaign moved (CampaignMoved)
                time.sleep(random.uniform(0, 0.002 * attempt_number))  # noqa: S311 - jitter only
        raise Contended(f"the command collided with concurrent changes {MAX_ATTEMPTS} times; retry it")

    def _save_translating(self, *aggregates: Aggregate, on_conflict: Callable[[], Exception]) -> None:
        try:
            with _store_errors():
                self.save(*aggregates)
        except IntegrityError:
            raise on_conflict() from None

    # --- users, personal-data reads, idempotent answers (appended for the API) ---

    @_utc_instant
    def create_user(
        self, username: str, role: str, city: str | None, token_hash: str, *, actor: Actor, at: datetime
    ) -> User:
        """A user holding the token whose SHA-256 hex digest is ``token_hash``."""
        user = User.create(username=username, role=role, city=city, token_hash=token_hash, actor=actor, at=at)
        self._save_translating(
            user, on_conflict=lambda: DuplicateUser(f"create user: the username {user.username!r} is taken")
        )
        return user

    def get_user(self, user_id: UUID) -> User | None:
        try:
            return self._get(User, user_id, NothingStored)
        except NothingStored:
            return None

    @_utc_instant
    def read_personal_data(self, contestant_id: UUID, *, actor: Actor, at: datetime) -> Contestant:
        """The unmasked contestant, once the read is recorded (who read whose data, when)."""

        def attempt() -> Contestant:
            contestant = self.get_contestant(contestant_id)
            try:
                log = self._get(PersonalDataLog, personal_data_log_id(contestant_id), NothingStored)
            except NothingStored:
                log = PersonalDataLog(contestant_id=contestant_id, timestamp=at)
            log.read(city=contestant.city, fields=["id_number", "mobile"], actor=actor, at=at)
            self.save(log)
            return contestant

        return self._retrying(attempt)

    def personal_data_reads(self, contestant_id: UUID) -> list[dict[str, object]]:
        try:
            return list(self._get(PersonalDataLog, personal_data_log_id(contestant_id), NothingStored).reads)
        except NothingStored:
            return []

    def recall_answer(self, user: str, key: str) -> RecordedAnswer | None:
        try:
            return self._get(RecordedAnswer, answer_id(user, key), NothingStored)
        except NothingStored:
            return None

    @_utc_instant
    def remember_answer(
        self, user: str, key: str, fingerprint: str, status: int, body: Any, *, at: datetime
    ) -> RecordedAnswer:
        """Keep the first answer; when another was kept meanwhile, that one is returned."""
        answer = RecordedAnswer(
            user=user, key=key, fingerprint=fingerprint, status=status, body=body, timestamp=at
        )
        try:
            with _store_errors():
                self.save(answer)
        except IntegrityError:
            kept = self.recall_answer(user, key)
            if kept is None:  # pragma: no cover - the conflicting answer is stored
                raise
            return kept
        return answer

    def last_notification_id(self) -> int:
        """The event store's highest notification id (0 when empty); raises StoreUnavailable."""
        with _store_errors():
            return self.recorder.max_notification_id() or 0


def _unchanged(campaign: Campaign) -> dict[str, Any]:
    """Save arguments that refuse the save if the campaign changed after this decision read it."""
    return {UNCHANGED: (campaign.id, campaign.version)}


@contextmanager
def _store_errors() -> Iterator[None]:
    """Library failures become StoreUnavailable; conflicts and not-found pass through."""
    try:
        yield
    except (IntegrityError, AggregateNotFoundError):
        raise
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable(f"the event store is unreachable: {error}") from None
    except (EventSourcingError, TopicError) as error:
        raise StoreUnavailable(
            f"the event store could not be read ({type(error).__name__}: {error}); "
            "is the cipher key the one the events were written with?"
        ) from None


def _timestamp(domain_event: object) -> datetime:
    instant: datetime = domain_event.timestamp  # type: ignore[attr-defined]
    return instant
