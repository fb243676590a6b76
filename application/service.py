"""Use cases of the campaign: load aggregates, let them decide, save all changes at once."""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from functools import wraps
from itertools import takewhile
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate, DomainEventProtocol, EventSourcingError
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    Recording,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import Environment, EnvType, TopicError, get_topic

from application import decisions
from application.answers import ANSWER, AnswerKept, StoredAnswer, answer_key, pending_answer, unanswered
from application.combining import Lanes, Nomination
from application.decisions import ContestantCommand
from application.erasures import Erasure, ErasureList
from application.errors import (
    CampaignExists,
    CampaignNotFound,
    Contended,
    ContestantNotFound,
    NotFound,
    NothingStored,
    StoreUnavailable,
)
from application.history import HistoryEntry, decisions_of, history_of, with_reads
from application.limits import LIMIT_LOCKS, LimitLocks
from application.person_keys import (
    ErasedSubject,
    KeyTable,
    MasterKeys,
    MemoryKeyTable,
    PersonKeys,
    SealedPersonRecord,
    SubjectMapper,
    made_with_the_events,
)
from application.recorders import (
    UNCHANGED,
    CampaignMoved,
    PostgresCampaignRecorder,
    SQLiteCampaignRecorder,
    StateMoved,
)
from application.repository import SelectiveRepository
from application.store_policy import on_record, writing
from application.transcodings import ActorAsDict, DecisionAsDict
from domain.access import PersonalDataLog, personal_data_log_id
from domain.ages import AgeRule
from domain.awards import AwardRules
from domain.campaign import Campaign, PhaseEdge
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.enrolment import contestant_scopes, free_places, take_places
from domain.errors import (
    AlreadyErased,
    DomainError,
    DuplicateAccount,
    DuplicatePerson,
    GroupCapReached,
    InvalidValue,
    NotPermitted,
    QuotaFull,
)
from domain.events import DecisionEvent
from domain.ids import account_claim_id, allotment_id, campaign_id, contestant_id, team_id
from domain.lifecycle import Status
from domain.places import AccountClaim, Allotment
from domain.registrations import DuplicateRegistration, receipt_of
from domain.retention import RetentionCandidate, RetentionPlan, RetentionPolicy, require_may_list_retention
from domain.team import CityTeam
from domain.timeline import PhaseCode, Side, Timeline, from_template, require_aware, shanghai_text, to_utc
from domain.usernames import ConfusableUsername, skeleton
from domain.users import DuplicateUser, User, UsernameClaim, user_id
from domain.values import Actor, Channel, Group, Person, ResidentId, Role

T = TypeVar("T")
P = ParamSpec("P")
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 40
CACHED_AGGREGATES = 2000  # campaigns and pools: a few dozen per campaign
PSEUDONYM_KEY = "PSEUDONYM_KEY"
ERASURE_LIST = "ERASURE_LIST"
MASTER_KEY = "MASTER_KEY"
_NOMINATED_TOPIC = get_topic(Contestant.Nominated)
_ERASED_TOPIC = get_topic(Contestant.Erased)
_REPEATED_TOPIC = get_topic(getattr(DuplicateRegistration, "RegistrationDuplicated"))  # noqa: B009 - by @event
PREVIOUS_MASTER_KEY = "PREVIOUS_MASTER_KEY"
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
        self._people = SealedPersonRecord()
        super().__init__(env)
        self._pseudonym_key = self.env.get(PSEUDONYM_KEY, "").encode()
        recorder = self.recorder
        table = recorder if isinstance(recorder, KeyTable) else MemoryKeyTable()  # in-memory store: tests
        masters = MasterKeys(
            self.env.get(MASTER_KEY), self.env.get(PREVIOUS_MASTER_KEY), self.env.get("CIPHER_KEY")
        )
        self.person_keys = PersonKeys(table, masters)
        self.erasures = ErasureList(Path(self.env.get(ERASURE_LIST) or "erasures.jsonl"))
        self._people.keys = self.person_keys
        self._subjects.keys = self.person_keys
        datastore = recorder.datastore if isinstance(recorder, PostgresApplicationRecorder) else None
        self._lanes: Lanes[Contestant | DomainError] = Lanes()
        self._limits = LimitLocks(datastore, self.env.get("POSTGRES_SCHEMA") or "public")

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=SubjectMapper)

    @property
    def _subjects(self) -> SubjectMapper:
        return cast(SubjectMapper, self.mapper)

    def single_key_only(self) -> None:
        """Store what is personal under the store's cipher key alone, as before data keys were made
        per person: only for ``bench/erasure.py``, which measures what the data keys cost."""
        self._people.keys = None
        self._subjects.keys = None

    def construct_repository(self) -> SelectiveRepository:
        return SelectiveRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            snapshotted=self.snapshotting_intervals,
            cached=(Campaign, Allotment),
            cache_maxsize=int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or CACHED_AGGREGATES),
        )

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # the request's answer says whether this write may have been recorded (``store_policy``)
        with made_with_the_events() as made, writing(refusals=(IntegrityError, AnswerKept)):
            try:
                recordings = super()._record(processing_event)
            except IntegrityError:
                self.person_keys.look_up(made)
                raise
        self.person_keys.keep(made)
        self._selective.remember(list(processing_event.aggregates.values()))
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A pool or team just saved at a snapshot's version is snapshotted as it is in memory;
        the library would first read it back and replay up to an interval of its events."""
        later: list[DomainEventProtocol[UUID]] = []
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if self.snapshots is None or interval is None or event.originator_version % interval:
                continue
            snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
            if snapshot_class is None or cast(Aggregate, aggregate).version != event.originator_version:
                later.append(event)  # saved further on than this version: the library replays it
                continue
            self.snapshots.put([snapshot_class.take(aggregate)])
        if later:
            rest: ProcessingEvent[UUID] = ProcessingEvent()
            rest.events, rest.aggregates = later, processing_event.aggregates
            super()._take_snapshots(rest)

    @property
    def _selective(self) -> SelectiveRepository:
        return cast(SelectiveRepository, self.repository)

    def pseudonym(self, text: str) -> str:
        """A keyed digest, so ids derived from an ID number or a handle cannot be reversed."""
        if not self._pseudonym_key:
            return text
        return hmac.new(self._pseudonym_key, text.encode(), hashlib.sha256).hexdigest()

    def receipt_for(self, contestant_id: UUID) -> UUID:
        """The receipt of a taken registration: keyed like the pseudonyms, so not derivable."""
        return receipt_of(contestant_id, self._pseudonym_key)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DecisionAsDict())
        transcoder.register(self._people)

    # --- the campaign --------------------------------------------------------

    def launch_campaign(
        self,
        name: str,
        context: DecisionContext,
        *,
        template: str | None = "hubei-2021",
        start: date | None = None,
        timeline: Timeline | None = None,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]] | None = None,
        quotas: Mapping[str, Mapping[Group, int]] | None = None,
        caps: Mapping[Group, int] | None = None,
        age_rules: Mapping[Group, AgeRule] | None = None,
        awards: AwardRules | None = None,
        retention: RetentionPolicy | None = None,
    ) -> UUID:
        """Launch from a template (optionally shifted to ``start``) and/or explicit dates."""
        existing = campaign_id(name)
        if self._exists(existing):
            raise CampaignExists(name, existing)
        base = timeline or from_template(template or "hubei-2021", start)
        if changes:
            base = base.amended(changes)
        campaign = Campaign.launch(
            context,
            name=name,
            timeline=base,
            template=template if timeline is None else None,
            quotas=quotas,
            caps=caps,
            age_rules=age_rules,
            awards=awards,
            retention=retention,
        )
        self._save_translating(
            campaign, command_id=context.command_id, on_conflict=lambda: CampaignExists(name, campaign.id)
        )
        return campaign.id

    def amend_timeline(
        self,
        campaign_id: UUID,
        changes: Mapping[PhaseCode, Mapping[Side, datetime | None]],
        context: DecisionContext,
    ) -> int:
        """Returns the new rule version."""

        def act(campaign: Campaign) -> int:
            campaign.amend_timeline(changes, context)
            return campaign.rule_version

        return self._on_campaign(campaign_id, context, act, lambda done: done.rule_version)

    def open_phase(self, campaign_id: UUID, code: PhaseCode, context: DecisionContext) -> None:
        self._on_campaign(campaign_id, context, lambda c: c.open_now(code, context), lambda _: None)

    def close_phase(self, campaign_id: UUID, code: PhaseCode, context: DecisionContext) -> None:
        self._on_campaign(campaign_id, context, lambda c: c.close_now(code, context), lambda _: None)

    def record_due_boundaries(
        self, campaign_id: UUID, context: DecisionContext
    ) -> list[tuple[PhaseCode, Side]]:
        """Record every phase and channel boundary due by the context's instant; idempotent, in
        timeline order. The scheduler decides as ``SCHEDULER``."""
        return self._on_campaign(
            campaign_id,
            context,
            lambda c: c.record_due_boundaries(context),
            lambda _: self._edges_recorded_by(campaign_id, context.command_id),
        )

    def get_campaign(self, campaign_id: UUID) -> Campaign:
        return self._get(Campaign, campaign_id, CampaignNotFound)

    def require_campaign(self, campaign_id: UUID) -> None:
        """Refuse an unknown campaign; one this process has seen needs no read (none is ever removed)."""
        if not self.knows_campaign(campaign_id):
            self.get_campaign(campaign_id)

    def knows_campaign(self, campaign_id: UUID) -> bool:
        """Whether ``require_campaign`` would pass without reading the store."""
        return self._selective.cached(Campaign, campaign_id)

    # --- contestants ---------------------------------------------------------

    def nominate(
        self,
        campaign_id: UUID,
        person: Person,
        channel: Channel,
        context: DecisionContext,
        *,
        unit: str | None = None,
        contact: str | None = None,
    ) -> Contestant:
        """Recommend (city staff) or self-register (public) one person.

        Nominations into the same group queue and are saved together (``combining.py``); one
        that only a decision on its own can judge (a duplicate, a conflict) is taken alone.
        """
        key = self.pseudonym(person.id_number.value)
        nomination = Nomination(person, channel, context, unit, contact)
        with unanswered():  # a batch saves others' nominations too: each keeps its answer after
            together = self._lanes.run(
                (campaign_id, person.group),
                nomination,
                lambda batch: self.nominate_together(campaign_id, batch) or [],
            )
        if isinstance(together, Contestant):
            return together
        if isinstance(together, DomainError):
            raise together
        tries = 0

        def attempt() -> Contestant:
            nonlocal tries
            tries += 1
            # The first try trusts what is cached: the insert refuses it if the campaign
            # moved, and the store's unique ids refuse a person or account already taken,
            # so only a retry pays for reading the campaign and looking for duplicates.
            first = tries == 1
            campaign = self._decision_campaign(campaign_id, as_cached=first)
            try:
                contestant = Contestant.nominate(
                    campaign, person, channel, context, person_key=key, unit=unit, contact=contact
                )
            except DomainError:
                if first:  # refused under the cached rules: only if they are still the rules
                    self._confirm_current(campaign)
                raise
            account_key = self.pseudonym(person.account.key)
            if not first:
                returning = self._returning(contestant, account_key, person, context.actor)
                if returning is not None:
                    return self._renominate(returning, campaign, nomination, account_key, cached=False)
            claim = AccountClaim.claim(campaign.id, account_key, contestant.id, context.at)
            allotments = self._allotments(
                campaign.id, contestant_scopes(contestant), context.at, as_cached=first
            )
            try:
                take_places(contestant, campaign, allotments, context.at)
            except (QuotaFull, GroupCapReached):
                if first:  # a duplicate is refused as one, also when no place is left
                    returning = self._returning(contestant, account_key, person, context.actor)
                    if returning is not None:
                        return self._renominate(
                            returning, campaign, nomination, account_key, cached=True, held=allotments
                        )
                    self._confirm_current(campaign)
                    self._confirm_pools(allotments)
                raise
            try:
                self.save(contestant, claim, *allotments.values(), **_unchanged(campaign))
            except ErasedSubject:  # on record, their key destroyed: nothing new is sealed for them
                returning = self._returning(contestant, account_key, person, context.actor)
                if returning is None:
                    raise
                return self._renominate(
                    returning, campaign, nomination, account_key, cached=first, held=allotments
                )
            return contestant

        def own_write() -> Contestant | None:
            return self._written_by(Contestant, contestant_id(campaign_id, key), context.command_id)

        return self._retrying(attempt, own_write)

    def _confirm_pools(self, allotments: Mapping[str, Allotment]) -> None:
        """A refusal decided on cached pools stands only if no process changed them since."""
        for allotment in allotments.values():
            read = allotment.version - len(allotment.pending_events)
            try:
                stored = self._get(Allotment, allotment.id, NothingStored).version
            except NothingStored:
                stored = 0
            if stored != read:
                raise PoolMoved(f"the pool {allotment.scope} changed after version {read}")

    def _confirm_current(self, campaign: Campaign) -> None:
        """A refusal decided on a cached campaign stands only if no process changed it since."""
        stored = self._decision_campaign(campaign.id, as_cached=False)
        if stored.version != campaign.version:
            raise CampaignMoved(f"campaign {campaign.id} changed after version {campaign.version}")

    def _returning(
        self, contestant: Contestant, account_key: str, person: Person, actor: Actor
    ) -> Contestant | None:
        """The withdrawn contestant this nomination brings back, or None for a new person.

        Refused when the person is on record otherwise (active, rejected, disqualified,
        erased) or the account belongs to another contestant.
        """
        verb = "register" if contestant.channel is Channel.SELF else "nominate"
        try:
            stored = self.get_contestant(contestant.id)
        except ContestantNotFound:
            stored = None
        if stored is not None and stored.status is Status.WITHDRAWN:
            return stored
        if stored is not None:
            # Not echoed to anonymous callers (the refusal itself still tells them; it is
            # rate-limited per address).
            if actor.role is Role.PUBLIC:
                raise DuplicatePerson(
                    f"{verb}: a person with this ID number is already a contestant of this campaign"
                )
            who = f"the person with ID number {person.id_number.masked}"
            way_back = _NO_WAY_BACK.get(stored.status)
            if way_back is not None:
                raise DuplicatePerson(f"{verb}: {who} {way_back}")
            raise DuplicatePerson(f"{verb}: {who} is already a contestant of this campaign")
        if self._exists(account_claim_id(contestant.campaign_id, account_key)):
            raise _account_taken(verb, person)
        return None

    def _renominate(
        self,
        returning: Contestant,
        campaign: Campaign,
        nomination: Nomination,
        account_key: str,
        *,
        cached: bool,
        held: dict[str, Allotment] | None = None,
    ) -> Contestant:
        """Nominate a withdrawn person again, under the quota and the group cap like anyone new.

        ``held``: the pools this attempt already holds (a new person's, which are the same).
        """
        person, context = nomination.person, nomination.context
        allotments: dict[str, Allotment] = {}
        try:
            returning.renominate(
                campaign,
                person,
                nomination.channel,
                context,
                unit=nomination.unit,
                contact=nomination.contact,
            )
            claims = self._claims_for(returning, account_key, person, context.at)
            scopes = contestant_scopes(returning)
            allotments = held if held is not None else self._allotments(campaign.id, scopes, context.at)
            take_places(returning, campaign, allotments, context.at)
        except DomainError as refusal:
            if cached:  # refused under the cached rules and pools: only if they are still so
                self._confirm_current(campaign)
                if isinstance(refusal, QuotaFull | GroupCapReached):
                    self._confirm_pools(allotments)
            raise
        self.save(returning, *claims, *allotments.values(), **_unchanged(campaign))
        return returning

    def _claims_for(
        self, returning: Contestant, account_key: str, person: Person, at: datetime
    ) -> list[AccountClaim]:
        """A claim for the account the person returns with, unless it is already theirs."""
        try:
            claim = self._get(
                AccountClaim, account_claim_id(returning.campaign_id, account_key), NothingStored
            )
        except NothingStored:
            return [AccountClaim.claim(returning.campaign_id, account_key, returning.id, at)]
        if claim.contestant_id == returning.id:
            return []
        raise _account_taken("register" if returning.channel is Channel.SELF else "nominate", person)

    def nominate_together(
        self, campaign_id: UUID, nominations: Sequence[Nomination]
    ) -> list[Contestant | DomainError | None] | None:
        """Nominate several people in one save, each decided in turn as ``nominate`` would.

        Per person: the contestant, stored; or the refusal, with nothing of theirs stored; or
        None when only ``nominate`` on its own can tell (the person or the account is already
        taken, in the store or earlier in ``nominations``). None instead of the list when the
        store refused the save (a person or account stored before, a concurrent change):
        then nothing at all is stored.
        """
        for fresh in (False, True):
            try:
                with _store_errors(), self._limits.attempt(), self._selective.lending():
                    return self._nominate_together(campaign_id, nominations, fresh)
            except StateMoved:
                continue
            except (IntegrityError, ErasedSubject):  # someone of the batch is on record already
                return None
        return None

    def _nominate_together(
        self, campaign_id: UUID, nominations: Sequence[Nomination], fresh: bool
    ) -> list[Contestant | DomainError | None]:
        if not nominations:
            return []
        campaign = self._decision_campaign(campaign_id, as_cached=not fresh)
        outcomes: list[Contestant | DomainError | None] = []
        for asked in nominations:
            person = asked.person
            try:
                outcomes.append(
                    Contestant.nominate(
                        campaign,
                        person,
                        asked.channel,
                        asked.context,
                        person_key=self.pseudonym(person.id_number.value),
                        unit=asked.unit,
                        contact=asked.contact,
                    )
                )
            except DomainError as refusal:  # unless imported before: then on its own it is "unchanged"
                stored = self._exists(contestant_id(campaign.id, self.pseudonym(person.id_number.value)))
                outcomes.append(None if stored else refusal)
        if not fresh and any(isinstance(o, DomainError) for o in outcomes):
            self._confirm_current(campaign)  # refused under the cached rules: still the rules?
            fresh = True
        nominated = [o for o in outcomes if isinstance(o, Contestant)]
        scopes = sorted({s for c in nominated for s in contestant_scopes(c)})
        allotments = self._allotments(campaign.id, scopes, nominations[0].context.at, as_cached=not fresh)
        seen: set[UUID] = set()
        changed: list[Aggregate] = []
        for n, (nomination, outcome) in enumerate(zip(nominations, outcomes, strict=True)):
            if not isinstance(outcome, Contestant):
                continue
            person, at = nomination.person, nomination.context.at
            claim_id = account_claim_id(campaign.id, self.pseudonym(person.account.key))
            if outcome.id in seen or claim_id in seen:
                outcomes[n] = None
                continue
            try:
                take_places(outcome, campaign, allotments, at)
            except (QuotaFull, GroupCapReached) as refusal:
                if not fresh:
                    self._confirm_current(campaign)
                    self._confirm_pools(allotments)
                    fresh = True  # confirmed once for the whole batch
                outcomes[n] = None if self._exists(outcome.id) or self._exists(claim_id) else refusal
                continue
            seen |= {outcome.id, claim_id}
            claim = AccountClaim.claim(campaign.id, self.pseudonym(person.account.key), outcome.id, at)
            changed += [outcome, claim]
        if changed:
            self.save(*changed, *allotments.values(), **_unchanged(campaign))
        return outcomes

    def decide(self, contestant_id: UUID, command: ContestantCommand, context: DecisionContext) -> int:
        """Load, let the contestant decide, save it with whatever else changed; return its version.

        Leaving (reject, withdraw, disqualify) also frees the contestant's places and team seat;
        coming back (reconsider) takes the places again.
        """

        tries = 0

        def attempt() -> int:
            nonlocal tries
            tries += 1
            # As for a nomination, the first try trusts the cached campaign and pools: the
            # insert refuses a moved campaign, the pools' versions refuse stale pools.
            first = tries == 1
            contestant = self.get_contestant(contestant_id)
            campaign = self._decision_campaign(contestant.campaign_id, as_cached=first)
            try:
                others = list(command.act(contestant, campaign, context, self))
            except DomainError:
                if first:  # refused under the cached rules: only if they are still the rules
                    self._confirm_current(campaign)
                raise
            scopes = contestant_scopes(contestant)
            if command.leaves:
                allotments = self._allotments(campaign.id, scopes, context.at, as_cached=first)
                team = self.get_team(campaign.id, contestant.city)
                free_places(contestant, allotments, team, context.at)
                others += [*allotments.values(), *([team] if team else [])]
            if command.rejoins:  # under the quota, as a nomination would
                allotments = self._allotments(campaign.id, scopes, context.at, as_cached=first)
                try:
                    take_places(contestant, campaign, allotments, context.at)
                except (QuotaFull, GroupCapReached):
                    if first:
                        self._confirm_current(campaign)
                        self._confirm_pools(allotments)
                    raise
                others += allotments.values()
            self.save(contestant, *others, **_unchanged(campaign))
            return contestant.version

        def own_write() -> int | None:
            found = self._written_by(Contestant, contestant_id, context.command_id)
            return None if found is None else found.version

        return self._retrying(attempt, own_write)

    def erase(self, contestant_id: UUID, context: DecisionContext) -> int:
        """Erase one person's data: the decision goes on record, then their key is destroyed.

        Their statuses, city, group and scores stay; the keyed digests stay too, so the same
        person is not entered again as new. Completing an erasure that was interrupted is
        part of asking again.
        """
        try:
            version = self.decide(contestant_id, decisions.ERASE, context)
        except AlreadyErased:
            on_record()  # the erasure is on record: completing it cannot make it unrecorded
            self._destroy_personal_data([Erasure(contestant_id, context.at, context.actor)])
            raise
        self._destroy_personal_data([Erasure(contestant_id, context.at, context.actor)])
        return version

    def _destroy_personal_data(self, erasures: Sequence[Erasure]) -> None:
        self.erasures.add(*erasures)  # first, so that a crash here is completed at the next start
        subjects = [erasure.contestant_id for erasure in erasures]
        with _store_errors(), writing():
            self.person_keys.destroy(*subjects)
            self._answers().forget_answers_about([str(s) for s in subjects])

    def reapply_erasures(self, at: datetime) -> int:
        """Erase again whoever the list names but the store still knows (a backup restored
        from before the erasure); returns how many were erased again."""
        again = 0
        listed = self.erasures.entries()
        for erasure in listed:
            self.person_keys.forget(erasure.contestant_id)
            try:
                contestant = self.get_contestant(erasure.contestant_id)
            except ContestantNotFound:
                continue
            if not contestant.erased:
                context = DecisionContext(
                    actor=erasure.actor,
                    at=max(at, contestant.modified_on),
                    reason="再次删除：恢复的备份早于删除",
                )
                self.decide(erasure.contestant_id, decisions.ERASE, context)
                again += 1
        if listed:
            subjects = [erasure.contestant_id for erasure in listed]
            with _store_errors():
                self.person_keys.destroy(*subjects)
                self._answers().forget_answers_about([str(s) for s in subjects])
        return again

    # --- retention: personal data kept as long as the campaign's policy says -------------

    def set_retention(
        self, campaign_id: UUID, policy: RetentionPolicy | None, context: DecisionContext
    ) -> int:
        """Set, change or drop the campaign's retention policy; returns the new rule version."""

        def act(campaign: Campaign) -> int:
            campaign.set_retention(policy, context)
            return campaign.rule_version

        return self._on_campaign(campaign_id, context, act, lambda done: done.rule_version)

    def retention_plan(self, campaign_id: UUID, actor: Actor) -> RetentionPlan:
        """Who the policy would erase and when, erasing nothing (the dry run)."""
        require_may_list_retention(actor)
        campaign = self.get_campaign(campaign_id)
        return RetentionPlan(
            campaign_id=campaign_id,
            policy=campaign.retention,
            rule_version=campaign.rule_version,
            due=campaign.retention_due,
            carried_out_at=campaign.retention_done,
            people=[] if campaign.retention_done else self._people_of(campaign_id),
        )

    def carry_out_retention(
        self, campaign_id: UUID, context: DecisionContext, *, batch: int = 100
    ) -> int | None:
        """Erase every contestant of the campaign once its policy is due; None when it is not
        due or was carried out already, else how many were erased now.

        Each erasure is the context's decision (the scheduler's) naming the policy as its
        reason; the campaign records when the policy was carried out. An interruption is
        completed by the next call.
        """
        campaign = self.get_campaign(campaign_id)
        if (
            campaign.retention is None
            or campaign.retention_done
            or not campaign.may_erase_by_retention(context.at)
        ):
            return None
        # The policy is the reason; the contestants' versions are not the one the caller saw.
        erasing = replace(
            context, reason=campaign.retention.describe(campaign.rule_version), expected_version=None
        )
        pending = [person.contestant_id for person in self._people_of(campaign_id)]
        erased = 0
        for start in range(0, len(pending), batch):
            erased += self._erase_together(pending[start : start + batch], erasing)
        self._destroy_repeats(campaign_id)
        self._on_campaign(campaign_id, context, lambda c: c.record_retention(erased, context), lambda _: None)
        return erased

    def _erase_together(self, ids: Sequence[UUID], context: DecisionContext) -> int:
        """Erase several contestants in one save, then destroy their keys in one transaction."""

        with _store_errors():
            self.person_keys.prefetch(ids)

        def attempt() -> list[Contestant]:
            campaign: Campaign | None = None
            changed: list[Contestant] = []
            for one in ids:
                contestant = self.get_contestant(one)
                if contestant.erased:
                    continue
                campaign = campaign or self.get_campaign(contestant.campaign_id)
                if context.at < contestant.modified_on:  # decided later than the policy fell due
                    contestant.erase(campaign, replace(context, at=contestant.modified_on))
                else:
                    contestant.erase(campaign, context)
                changed.append(contestant)
            if changed and campaign is not None:
                self.save(*changed, **_unchanged(campaign))
            return changed

        done = self._retrying(attempt)
        self._destroy_personal_data([Erasure(c.id, c.modified_on, context.actor) for c in done])
        return len(done)

    def _people_of(self, campaign_id: UUID) -> list[RetentionCandidate]:
        """The campaign's contestants whose personal data are not erased yet, in nomination order."""
        erased = {UUID(str(n.originator_id)) for n in self._notifications(_ERASED_TOPIC)}
        found: list[RetentionCandidate] = []
        for notification in self._notifications(_NOMINATED_TOPIC, decoded=True):
            if UUID(str(notification.originator_id)) in erased:
                continue
            nominated: Any = self.mapper.to_domain_event(notification)
            if nominated.campaign_id != campaign_id or nominated.person.is_erased:
                continue
            person = nominated.person
            found.append(
                RetentionCandidate(
                    contestant_id=nominated.originator_id,
                    city=person.city,
                    group=person.group.value,
                    channel=nominated.channel,
                    name=person.name,
                    nominated_at=nominated.timestamp,
                )
            )
        return found

    def _destroy_repeats(self, campaign_id: UUID) -> None:
        """Repeated registrations sealed under their own key (the contestant repeated was erased
        before) go with the campaign's other personal data."""
        own: list[UUID] = []
        for notification in self._notifications(_REPEATED_TOPIC, decoded=True):
            repeat: Any = self.mapper.to_domain_event(notification)
            if repeat.campaign_id == campaign_id and self.person_keys.exists(repeat.originator_id):
                own.append(repeat.originator_id)
        if own:
            with _store_errors():
                self.person_keys.destroy(*own)

    def _notifications(self, topic: str, *, decoded: bool = False) -> Iterator[Any]:
        position = 0
        while True:
            with _store_errors():
                page = self.recorder.select_notifications(
                    start=position, limit=500, topics=[topic], inclusive_of_start=False
                )
                if decoded:
                    self._subjects.prefetch(page)
            yield from page
            if len(page) < 500:
                return
            position = page[-1].id

    def team_for(self, campaign_id: UUID, city: str, at: datetime) -> CityTeam:
        """The city's finals team, formed when first needed."""
        return self.get_team(campaign_id, city) or CityTeam(campaign_id=campaign_id, city=city, timestamp=at)

    def appoint_team_leader(
        self, campaign_id: UUID, city: str, context: DecisionContext, *, name: str, staff_user: str
    ) -> CityTeam:
        """Appointing the leader the team already has records nothing."""

        def attempt() -> CityTeam:
            campaign = self.get_campaign(campaign_id)
            team = self.team_for(campaign_id, city, context.at)
            appointee = self.get_user(user_id(staff_user))
            team.appoint_leader(
                context,
                name=name,
                staff_user=staff_user,
                appointee=appointee,
                rule_version=campaign.rule_version,
            )
            if team.pending_events:
                self.save(team, **_unchanged(campaign))
            return team

        return self._retrying(attempt, self._team_written_by(campaign_id, city, context))

    def award_team(self, campaign_id: UUID, city: str, kind: str, context: DecisionContext) -> CityTeam:
        def attempt() -> CityTeam:
            campaign = self.get_campaign(campaign_id)
            team = self.team_for(campaign_id, city, context.at)
            team.award_team(kind, campaign.awards, campaign.timeline, campaign.rule_version, context)
            self.save(team, **_unchanged(campaign))
            return team

        return self._retrying(attempt, self._team_written_by(campaign_id, city, context))

    def enter_team_for_finals(self, campaign_id: UUID, city: str, context: DecisionContext) -> CityTeam:
        """A complete team, or an incomplete one by an organiser's override with a reason."""

        def attempt() -> CityTeam:
            campaign = self.get_campaign(campaign_id)
            team = self.team_for(campaign_id, city, context.at)
            team.enter_finals(campaign.timeline, campaign.rule_version, context)
            self.save(team, **_unchanged(campaign))
            return team

        return self._retrying(attempt, self._team_written_by(campaign_id, city, context))

    def _team_written_by(
        self, campaign_id: UUID, city: str, context: DecisionContext
    ) -> Callable[[], CityTeam | None]:
        """Finds the team as a re-sent command left it, so a retry is not refused as a repeat."""
        return lambda: self._written_by(CityTeam, team_id(campaign_id, city), context.command_id)

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
                raise NotFound(f"contestant {contestant_id} did not exist yet at {shanghai_text(as_of)}")
            version = earlier[-1].originator_version
        return self._get(Contestant, contestant_id, ContestantNotFound, version=version)

    def campaign_as_of(
        self, campaign_id: UUID, as_of: datetime, *, now: datetime, field: str = "as_of"
    ) -> Campaign:
        """The campaign as it was at ``as_of``: its rule version, timeline and recorded phases.

        An instant past ``now`` is refused (what is not recorded yet cannot be shown), and so
        is one before the campaign's launch; ``field`` names the parameter in the refusal.
        """
        as_of = require_past(field, as_of, now)
        self.get_campaign(campaign_id)  # an unknown campaign is not found, whatever the instant
        with _store_errors():
            events = list(self.events.get(campaign_id))
        earlier = list(takewhile(lambda e: _timestamp(e) <= as_of, events))
        if not earlier:
            launched = shanghai_text(_timestamp(events[0]))
            raise InvalidValue(
                field, f"{shanghai_text(as_of)} is before the campaign was launched ({launched})"
            )
        campaign = project_aggregate(None, earlier)
        if not isinstance(campaign, Campaign):
            raise CampaignNotFound(campaign_id)
        return campaign

    def find_contestant(self, campaign_id: UUID, id_number: str) -> Contestant:
        key = self.pseudonym(ResidentId.parse(id_number).value)
        return self.get_contestant(contestant_id(campaign_id, key))

    @_utc_instant
    def history(
        self, contestant_id: UUID, *, as_of: datetime | None = None, reads: bool = False
    ) -> list[HistoryEntry]:
        """Every decision on one contestant (up to ``as_of``); other aggregates' ids are not found here.

        ``reads``: the reads of the person's numbers too, granted and refused, in time order.
        """
        with _store_errors():
            events = list(self.events.get(contestant_id))
            log_events = list(self.events.get(personal_data_log_id(contestant_id))) if reads else []
        if not events or not isinstance(events[0], Contestant.Nominated):
            raise ContestantNotFound(contestant_id)
        entries = history_of(decisions_of(events))
        if reads:
            entries = with_reads(entries, log_events)
        if as_of is not None:
            entries = [entry for entry in entries if entry.at <= as_of]
        return entries

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

    def _on_campaign(
        self,
        campaign_id: UUID,
        context: DecisionContext,
        act: Callable[[Campaign], T],
        answer: Callable[[Campaign], T],
    ) -> T:
        """Load the campaign, let it decide, save. A re-sent command whose write went through is
        answered from the campaign as that write left it (``answer``), never decided twice."""

        def attempt() -> tuple[T]:  # boxed: ``None`` is a decision's answer, not "not mine"
            campaign = self.get_campaign(campaign_id)
            result = act(campaign)
            if campaign.pending_events:
                self.save(campaign)
            return (result,)

        def own_write() -> tuple[T] | None:
            done = self._written_by(Campaign, campaign_id, context.command_id)
            return None if done is None else (answer(done),)

        return self._retrying(attempt, own_write)[0]

    def _edges_recorded_by(self, campaign_id: UUID, command_id: str | None) -> list[tuple[PhaseCode, Side]]:
        return [
            (PhaseCode(e.code), "opens" if isinstance(e, Campaign.PhaseOpened) else "closes")
            for e in self.events.get(campaign_id)
            if isinstance(e, PhaseEdge) and e.decision.command_id == command_id
        ]

    def _allotments(
        self, campaign_id: UUID, scopes: Iterable[str], at: datetime, *, as_cached: bool = False
    ) -> dict[str, Allotment]:
        """The pools, locked against other writers until this attempt has saved (see limits.py).

        ``as_cached``: as this process last saw them, without reading the store. Saving a pool
        stale here is refused by the store (its next version exists), and a refusal for want
        of a place must be confirmed on the stored pools (``_confirm_pools``).
        """
        ids = {scope: allotment_id(campaign_id, scope) for scope in scopes}
        self._limits.hold(ids.values(), in_insert=as_cached)
        found: dict[str, Allotment] = {}
        for scope, pool_id in ids.items():
            try:
                with _store_errors():
                    loaded = self._selective.load(Allotment, pool_id, as_cached=as_cached)
                if not isinstance(loaded, Allotment):
                    raise NothingStored(pool_id)
                found[scope] = loaded
            except (AggregateNotFoundError, NothingStored):
                found[scope] = Allotment(campaign_id=campaign_id, scope=scope, timestamp=at)
        return found

    def _decision_campaign(self, campaign_id: UUID, *, as_cached: bool) -> Campaign:
        """The campaign a decision reads and never changes; ``as_cached`` when its save checks
        the version: then the cached campaign itself, lent for the attempt (no copy)."""
        try:
            with _store_errors():
                if as_cached:
                    found = self._selective.lend(Campaign, campaign_id)
                else:
                    found = self._selective.load(Campaign, campaign_id)
        except AggregateNotFoundError:
            raise CampaignNotFound(campaign_id) from None
        if not isinstance(found, Campaign):
            raise CampaignNotFound(campaign_id)
        return found

    def _get(
        self,
        kind: type[A],
        aggregate_id: UUID,
        missing: Callable[[UUID], NotFound],
        version: int | None = None,
    ) -> A:
        try:
            with _store_errors():
                aggregate: Aggregate = self._selective.load(kind, aggregate_id, version)
        except AggregateNotFoundError:
            raise missing(aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise missing(aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        with _store_errors():
            return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _retrying(self, attempt: Callable[[], T], own_write: Callable[[], T | None] | None = None) -> T:
        """Run a decide-and-save attempt, again on fresh state while writers collide.

        A collision means another command changed an aggregate this one read; deciding
        again on fresh state yields either success or the real refusal (quota full,
        duplicate, wrong state), never a bare version conflict. It can also mean the
        store re-sent an insert whose commit went through but whose answer was lost:
        ``own_write`` then finds this command's id in the stored events, and that write is
        the answer, never a refusal of itself.
        """
        for attempt_number in range(1, MAX_ATTEMPTS + 1):
            try:
                if attempt_number > 1 and own_write is not None:
                    with _store_errors():
                        done = own_write()
                    if done is not None:
                        return done
                with _store_errors(), self._limits.attempt(), self._selective.lending():
                    return attempt()
            except IntegrityError:  # a lost race, the campaign moved (CampaignMoved), or our own write
                time.sleep(random.uniform(0, 0.002 * attempt_number))  # noqa: S311 - jitter only
        raise Contended(f"the command collided with concurrent changes {MAX_ATTEMPTS} times; retry it")

    def _written_by(self, kind: type[A], aggregate_id: UUID, command_id: str | None) -> A | None:
        """The aggregate as the command left it, if the command's events are stored."""
        if command_id is None:
            return None
        events = list(self.events.get(aggregate_id))
        mine = [
            e.originator_version
            for e in events
            if isinstance(e, DecisionEvent) and e.decision.command_id == command_id
        ]
        if not mine:
            return None
        on_record()  # found: a later failure of the request cannot say it was not recorded
        return self._get(kind, aggregate_id, NothingStored, version=mine[-1])

    def _save_translating(
        self,
        first: Aggregate,
        *others: Aggregate,
        command_id: str | None,
        on_conflict: Callable[[], Exception],
    ) -> None:
        """Save new aggregates; a conflict is ``on_conflict()``, unless the store re-sent this
        command's own insert after its commit went through (then the write is done)."""
        try:
            with _store_errors():
                self.save(first, *others)
        except IntegrityError:
            with _store_errors():
                if self._written_by(type(first), first.id, command_id) is not None:
                    return
            raise on_conflict() from None

    # --- users, personal-data reads, idempotent answers (appended for the API) ---

    def create_user(
        self,
        username: str,
        role: str,
        city: str | None,
        token_hash: str,
        context: DecisionContext,
        *,
        token_expires_at: datetime | None = None,
    ) -> User:
        """A user holding the token whose SHA-256 hex digest is ``token_hash``; look-alikes refused."""
        user = User.create(
            context,
            username=username,
            role=role,
            city=city,
            token_hash=token_hash,
            token_expires_at=token_expires_at,
        )
        if self.get_user(user.id) is not None:
            raise DuplicateUser(f"create user: the username {user.username!r} is taken")
        for existing in self.list_users():  # users made before names were claimed by their look
            if skeleton(existing.username) == skeleton(user.username):
                raise ConfusableUsername(
                    f"create user: {user.username!r} reads like the user {existing.username!r}"
                )
        claim = UsernameClaim(username=user.username, timestamp=context.at)
        self._save_translating(
            user,
            claim,
            command_id=context.command_id,
            on_conflict=lambda: ConfusableUsername(
                f"create user: {user.username!r} is taken or reads like an existing user's name"
            ),
        )
        return user

    def list_users(self) -> list[User]:
        """Every user, in the order they were created (found by their creation events' topic)."""
        topic = get_topic(User.UserCreated)
        ids: list[UUID] = []
        position = 0
        with _store_errors():
            while True:
                page = self.recorder.select_notifications(
                    start=position, limit=500, topics=[topic], inclusive_of_start=False
                )
                ids += [UUID(str(n.originator_id)) for n in page]
                if len(page) < 500:
                    break
                position = page[-1].id
        return [user for user in map(self.get_user, ids) if user is not None]

    def disable_user(self, username: str, context: DecisionContext) -> User:
        """The user's token stops at once; disabling a disabled user records nothing."""
        return self._change_user(username, context, lambda user: user.disable(context))

    def enable_user(self, username: str, context: DecisionContext) -> User:
        return self._change_user(username, context, lambda user: user.enable(context))

    def rotate_token(
        self, username: str, token_hash: str, context: DecisionContext, *, expires_at: datetime | None
    ) -> User:
        """A new token (its SHA-256 hex digest) replaces the user's, which stops at once."""
        return self._change_user(
            username, context, lambda user: user.rotate_token(token_hash, context, expires_at=expires_at)
        )

    def _change_user(self, username: str, context: DecisionContext, change: Callable[[User], None]) -> User:
        """Load the user, let it decide, save; 404 for an unknown name. A re-sent command finds
        the user as its own write left it."""

        def attempt() -> User:
            user = self._get(User, user_id(username), lambda _: NotFound(f"no user {username!r}"))
            change(user)
            if user.pending_events:
                self.save(user)
            return user

        return self._retrying(attempt, lambda: self._written_by(User, user_id(username), context.command_id))

    def get_user(self, user_id: UUID) -> User | None:
        try:
            return self._get(User, user_id, NothingStored)
        except NothingStored:
            return None

    @_utc_instant
    def read_personal_data(self, contestant_id: UUID, *, actor: Actor, at: datetime) -> Contestant:
        """The unmasked contestant, once the read is recorded (who read whose data, when).

        A refused read is recorded as well, then refused (``NotPermitted``).
        """

        def attempt() -> Contestant:
            contestant = self.get_contestant(contestant_id)
            log = self._personal_data_log(contestant_id)
            if log is None:
                log = PersonalDataLog(contestant_id=contestant_id, timestamp=at)
            try:
                log.read(city=contestant.city, fields=["id_number", "mobile"], actor=actor, at=at)
            except NotPermitted:
                self.save(log)
                raise
            self.save(log)
            return contestant

        return self._retrying(attempt)

    def _personal_data_log(self, contestant_id: UUID) -> PersonalDataLog | None:
        try:
            return self._get(PersonalDataLog, personal_data_log_id(contestant_id), NothingStored)
        except NothingStored:
            return None

    def personal_data_reads(self, contestant_id: UUID) -> list[dict[str, object]]:
        """The granted reads of the contestant's numbers, oldest first."""
        log = self._personal_data_log(contestant_id)
        return list(log.reads) if log is not None else []

    def personal_data_refusals(self, contestant_id: UUID) -> list[dict[str, object]]:
        """The refused asks for the contestant's numbers, oldest first, each with its rule."""
        log = self._personal_data_log(contestant_id)
        return list(log.refusals) if log is not None else []

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Also writes a pending remembered answer, and takes the limits' pending locks
        (``limits.py``), in the same transaction as the events."""
        self._selective.check_loans()  # a decision must not have changed what it was lent to read
        if locks := self._limits.insert_keys():
            kwargs = {**kwargs, LIMIT_LOCKS: locks}
        pending = pending_answer()
        if pending is None or pending.kept is not None or not objs:
            return self._save_collected(objs, kwargs)
        answer = pending.stored(objs[0])
        if answer is None:
            return self._save_collected(objs, kwargs)
        recordings = self._save_collected(objs, {**kwargs, ANSWER: answer})
        pending.kept = answer
        return recordings

    def _save_collected(self, objs: Sequence[Any], kwargs: dict[str, Any]) -> list[Recording[UUID]]:
        """The library's save, aggregates told apart by their class: its runtime protocol checks
        cost more than all the rest of collecting the events (on Python 3.11)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, called as its save does
        return recordings

    def recall_answer(self, user: str, key: str) -> StoredAnswer | None:
        with _store_errors():
            return self._answers().select_answer(answer_key(user, key))

    def remember_answer(self, answer: StoredAnswer) -> StoredAnswer:
        """Keep an answer on its own; when another was kept meanwhile, that one is returned."""
        try:
            with _store_errors(), writing(refusals=(AnswerKept,)):
                self._answers().keep_answer(answer)
        except AnswerKept:
            on_record()  # an answer to this key is on record: reading it back may fail
            kept = self.recall_answer(answer.user, answer.key)
            if kept is None:  # pragma: no cover - the conflicting answer is stored
                raise
            return kept
        return answer

    def _answers(self) -> PostgresCampaignRecorder | SQLiteCampaignRecorder:
        recorder = self.recorder
        assert isinstance(recorder, PostgresCampaignRecorder | SQLiteCampaignRecorder)  # noqa: S101
        return recorder

    def last_notification_id(self) -> int:
        """The event store's highest notification id (0 when empty); raises StoreUnavailable."""
        with _store_errors():
            return self.recorder.max_notification_id() or 0


#: Why a person on record in these statuses is not nominated again (told to staff only).
_NO_WAY_BACK = {
    Status.REJECTED: "was rejected in this campaign; an organiser may reconsider the rejection during review",
    Status.DISQUALIFIED: "was disqualified from this campaign and may not be nominated again",
}


def _account_taken(verb: str, person: Person) -> DuplicateAccount:
    account = person.account
    return DuplicateAccount(
        f"{verb}: the {account.platform} account {account.handle!r} already belongs to another contestant"
    )


class PoolMoved(StateMoved):
    """A pool (a city quota, a group cap) changed after the decision read it from the cache."""


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
        raise StoreUnavailable("the event store is unreachable", str(error)) from None
    except (EventSourcingError, TopicError) as error:
        raise StoreUnavailable(
            "the event store could not be read",
            f"{type(error).__name__}: {error}; is the cipher key the one the events were written with?",
        ) from None


def require_past(field: str, instant: datetime, now: datetime) -> datetime:
    """``instant`` in UTC, refused when it lies after ``now``: the log cannot answer for it yet."""
    instant = to_utc(require_aware(instant, field))
    if instant > now:
        raise InvalidValue(
            field, f"{shanghai_text(instant)} is in the future (it is now {shanghai_text(now)})"
        )
    return instant


def _timestamp(domain_event: object) -> datetime:
    instant: datetime = domain_event.timestamp  # type: ignore[attr-defined]
    return instant
