"""Random command sequences against the real application on the in-memory store.

A small model predicts, from the transition table and the limits, which refusals a
command may meet; the service must succeed exactly when none applies, and after every
step its state must keep the campaign's invariants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from application import decisions
from application.errors import ContestantNotFound
from application.service import CampaignService
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import (
    DomainError,
    DuplicateAccount,
    DuplicatePerson,
    GroupCapReached,
    GroupNotAllowed,
    InvalidTransition,
    NotPermitted,
    OutOfOrder,
    PhaseClosed,
    QuotaFull,
    ReasonRequired,
    TeamFull,
)
from domain.lifecycle import MOVES_BY_TRIGGER, Status, allowed_moves
from domain.places import cap_scope, quota_scope
from domain.team import MAX_ASSISTANTS, MAX_STREAMERS, TeamRole
from domain.timeline import PhaseCode, Timeline
from domain.values import Account, Actor, Channel, Group, Person, Role
from tests.unit.helpers import HUANGSHI, WUHAN, reachable_statuses, resident_id, sh

CITIES = (WUHAN, HUANGSHI)
QUOTA = 3
CAP = 5
ID_NUMBERS = [resident_id(f"42010219850101{n:03d}") for n in range(14)]
HANDLES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
REACHABLE = reachable_statuses()
SCORES = {"short_video": 70.0, "account_operation": 80.0, "livestream_selling": 90.0}

# A gated command happens at an instant inside the window that gates it; leaving (not
# gated) an hour after the contestant's last decision, since decisions come in time order.
AT: dict[str, datetime] = {
    "nominate": sh(2021, 6, 20, 10),
    "verify": sh(2021, 6, 25, 9),
    "reject": sh(2021, 6, 25, 9),
    "assign_training_account": sh(2021, 7, 12, 9),
    "record_training": sh(2021, 7, 15, 9),
    "record_results": sh(2021, 7, 25, 9),
    "advance": sh(2021, 9, 2, 9),
    "award": sh(2021, 9, 6, 9),
}
LEAVING = ("withdraw", "disqualify")


def actor_of(kind: str, city: str, trigger: str) -> Actor:
    """``right`` is the most specific role the table lets take the move: staff, judge, public."""
    other = HUANGSHI if city == WUHAN else WUHAN
    if kind == "right":
        roles = MOVES_BY_TRIGGER[trigger].roles
        preferred = [(Role.CITY_STAFF, "own_staff"), (Role.JUDGE, "judge"), (Role.PUBLIC, "public")]
        kind = next((name for role, name in preferred if role in roles), "admin")
    return {
        "admin": Actor("organiser", Role.ADMIN),
        "own_staff": Actor(f"staff-{city}", Role.CITY_STAFF, city),
        "other_staff": Actor(f"staff-{other}", Role.CITY_STAFF, other),
        "judge": Actor("judge", Role.JUDGE),
        "public": Actor("someone", Role.PUBLIC),
    }[kind]


@dataclass(frozen=True)
class Nominate:
    id_index: int
    handle_index: int
    upper: bool
    platform: str
    city: str
    group: Group
    channel: Channel
    actor: str

    @property
    def trigger(self) -> str:
        return "recommend" if self.channel is Channel.RECOMMENDED else "register"

    def person(self) -> Person:
        handle = HANDLES[self.handle_index]
        return Person.parse(
            name=f"选手{self.id_index}",
            id_number=ID_NUMBERS[self.id_index],
            mobile=f"139123456{self.id_index:02d}",
            city=self.city,
            group=self.group.value,
            platform=self.platform,
            account=handle.upper() if self.upper else handle,
            followers=10,
        )


@dataclass(frozen=True)
class Decide:
    trigger: str
    target: int
    aimed: bool  # pick among contestants the move can start from, so that runs get far
    actor: str
    with_reason: bool
    team_role: TeamRole


Command = Nominate | Decide

nominations = st.builds(
    Nominate,
    id_index=st.sampled_from(range(len(ID_NUMBERS))),
    handle_index=st.sampled_from(range(len(HANDLES))),
    upper=st.booleans(),
    platform=st.sampled_from(["douyin", "kuaishou"]),
    city=st.sampled_from([WUHAN, WUHAN, WUHAN, HUANGSHI]),
    group=st.sampled_from([Group.TRAINEE, Group.VETERAN, Group.VETERAN, Group.VETERAN, Group.FAMILY]),
    channel=st.sampled_from([Channel.RECOMMENDED] * 3 + [Channel.SELF]),
    actor=st.sampled_from(["right"] * 6 + ["admin", "own_staff", "public", "other_staff"]),
)
decision_commands = st.builds(
    Decide,
    trigger=st.sampled_from([t for t in AT if t != "nominate"] + ["reject", *LEAVING] + ["next"] * 8),
    target=st.sampled_from(range(10)),
    aimed=st.sampled_from([True] * 9 + [False]),
    actor=st.sampled_from(["right"] * 8 + ["admin", "own_staff", "judge", "other_staff", "public"]),
    with_reason=st.sampled_from([True, True, True, False]),
    team_role=st.sampled_from([TeamRole.STREAMER] * 3 + [TeamRole.ASSISTANT]),
)
commands = st.lists(
    st.one_of(nominations, decision_commands, decision_commands, decision_commands), min_size=25, max_size=60
)


@dataclass
class Known:
    """What the model knows of one contestant."""

    id: UUID
    city: str
    group: Group
    channel: Channel
    account_key: str
    last_at: datetime
    status: Status = Status.NOMINATED
    team_role: TeamRole | None = None

    @property
    def holds_quota_place(self) -> bool:
        return self.channel is Channel.RECOMMENDED and self.group is not Group.FAMILY


@dataclass
class Model:
    contestants: dict[str, Known] = field(default_factory=dict)  # by ID number
    claims: dict[str, str] = field(default_factory=dict)  # account key -> ID number, never handed on

    def active(self) -> list[Known]:
        return [k for k in self.contestants.values() if k.status.is_active]

    def quota_holders(self, city: str, group: Group) -> int:
        return sum(1 for k in self.active() if k.holds_quota_place and (k.city, k.group) == (city, group))

    def group_members(self, group: Group) -> int:
        return sum(1 for k in self.active() if k.group is group)

    def team(self, city: str, role: TeamRole) -> int:
        return sum(1 for k in self.active() if k.city == city and k.team_role is role)


def nomination_instant(model: Model, who: Person) -> datetime:
    """A withdrawn person is nominated again an hour after their withdrawal; others on the day."""
    known = model.contestants.get(who.id_number.value)
    if known is not None and known.status is Status.WITHDRAWN:
        return known.last_at + timedelta(hours=1)
    return AT["nominate"]


def possible_refusals_of_nomination(
    model: Model, command: Nominate, who: Person, timeline: Timeline
) -> set[type[DomainError]]:
    refusals: set[type[DomainError]] = set()
    actor = actor_of(command.actor, who.city, command.trigger)
    allowed = MOVES_BY_TRIGGER[command.trigger]
    if actor.role not in allowed.roles or (actor.role is Role.CITY_STAFF and actor.city != who.city):
        refusals.add(NotPermitted)
    if who.group not in allowed.groups:
        refusals.add(GroupNotAllowed)
    known = model.contestants.get(who.id_number.value)
    if known is not None and known.status is not Status.WITHDRAWN:
        refusals.add(DuplicatePerson)
    if known is not None and known.status is Status.WITHDRAWN:  # nominated again, as from the start
        if (who.city, who.group) != (known.city, known.group):
            refusals.add(DuplicatePerson)
        channel = (
            PhaseCode.RECOMMENDATION
            if command.channel is Channel.RECOMMENDED
            else PhaseCode.SELF_REGISTRATION
        )
        opens, closes = timeline.instant(channel, "opens"), timeline.instant(channel, "closes")
        at = nomination_instant(model, who)
        if opens is None or at < opens or (closes is not None and at >= closes):
            refusals.add(PhaseClosed)
    if model.claims.get(who.account.key, who.id_number.value) != who.id_number.value:
        refusals.add(DuplicateAccount)
    takes_quota = command.channel is Channel.RECOMMENDED and who.group is not Group.FAMILY
    if takes_quota and model.quota_holders(who.city, who.group) >= QUOTA:
        refusals.add(QuotaFull)
    if model.group_members(who.group) >= CAP:
        refusals.add(GroupCapReached)
    return refusals


PROGRESS = ("verify", "assign_training_account", "record_training", "record_results", "advance", "award")


def next_move(known: Known, choice: int) -> str:
    """A move the table allows the contestant now, favouring progress; leaving when none is left."""
    moves = [t for t in allowed_moves(known.status) if t in PROGRESS]
    return moves[choice % len(moves)] if moves else LEAVING[choice % 2]


def instant_of(command: Decide, known: Known) -> datetime:
    return known.last_at + timedelta(hours=1) if command.trigger in LEAVING else AT[command.trigger]


def possible_refusals_of_decision(model: Model, command: Decide, known: Known) -> set[type[DomainError]]:
    move = MOVES_BY_TRIGGER[command.trigger]
    actor = actor_of(command.actor, known.city, command.trigger)
    refusals: set[type[DomainError]] = set()
    if instant_of(command, known) < known.last_at:
        refusals.add(OutOfOrder)
    if actor.role not in move.roles or (actor.role is Role.CITY_STAFF and actor.city != known.city):
        refusals.add(NotPermitted)
    if move.reason_required and not command.with_reason:
        refusals.add(ReasonRequired)
    if known.status not in move.sources:
        refusals.add(InvalidTransition)
    if command.trigger == "advance":
        limit = MAX_STREAMERS if command.team_role is TeamRole.STREAMER else MAX_ASSISTANTS
        if model.team(known.city, command.team_role) >= limit:
            refusals.add(TeamFull)
    return refusals


def run_decision(service: CampaignService, command: Decide, known: Known) -> None:
    actor = actor_of(command.actor, known.city, command.trigger)
    at = instant_of(command, known)
    reason = "recorded in the case file" if command.with_reason else ""
    cid = known.id
    match command.trigger:
        case "verify":
            service.decide(cid, decisions.VERIFY, DecisionContext(actor=actor, at=at, reason=reason))
        case "reject":
            service.decide(cid, decisions.REJECT, DecisionContext(actor=actor, at=at, reason=reason))
        case "withdraw":
            service.decide(cid, decisions.WITHDRAW, DecisionContext(actor=actor, at=at, reason=reason))
        case "disqualify":
            service.decide(cid, decisions.DISQUALIFY, DecisionContext(actor=actor, at=at, reason=reason))
        case "assign_training_account":
            service.decide(
                cid,
                decisions.assign_training_account(f"px-{cid.hex[:6]}"),
                DecisionContext(actor=actor, at=at, reason=reason),
            )
        case "record_training":
            service.decide(cid, decisions.RECORD_TRAINING, DecisionContext(actor=actor, at=at, reason=reason))
        case "record_results":
            service.decide(
                # a correction needs a reason: the scores are given with one
                cid,
                decisions.record_results(SCORES),
                DecisionContext(actor=actor, at=at, reason=reason or "评分"),
            )
        case "advance":
            service.decide(
                cid, decisions.advance(command.team_role), DecisionContext(actor=actor, at=at, reason=reason)
            )
        case "award":  # one award of each kind at most: the next kind the contestant lacks
            held = service.get_contestant(cid).awards
            kind = next((k for k in ("一等奖", "二等奖", "三等奖", "优秀奖") if k not in held), "优秀奖")
            service.decide(cid, decisions.award(kind), DecisionContext(actor=actor, at=at, reason=reason))
        case _:
            raise AssertionError(command.trigger)


def launch(service: CampaignService) -> UUID:
    return service.launch_campaign(
        "property-campaign",
        DecisionContext(actor=Actor("organiser", Role.ADMIN), at=sh(2021, 5, 1)),
        changes={PhaseCode.SELF_REGISTRATION: {"opens": sh(2021, 6, 7)}},
        quotas={city: {Group.TRAINEE: QUOTA, Group.VETERAN: QUOTA} for city in CITIES},
        caps=dict.fromkeys(Group, CAP),
    )


def check_invariants(service: CampaignService, campaign_id: UUID, model: Model) -> None:
    stored: dict[str, Contestant] = {}
    for number in ID_NUMBERS:
        try:
            stored[number] = service.find_contestant(campaign_id, number)
        except ContestantNotFound:
            continue
    # Exactly the nominations the model accepted were stored, in the states it predicts.
    assert set(stored) == set(model.contestants)
    for number, contestant in stored.items():
        known = model.contestants[number]
        assert contestant.status is known.status
        assert contestant.status in REACHABLE
        assert contestant.id_number == number
        assert (contestant.team_role or None) == (known.team_role.value if known.team_role else None)

    accounts = [Account.parse(c.platform, c.account).key for c in stored.values()]
    assert len(accounts) == len(set(accounts)), "two contestants share an account"
    assert len({c.id for c in stored.values()}) == len(stored)

    active = [c for c in stored.values() if c.status.is_active]
    for city in CITIES:
        for group in (Group.TRAINEE, Group.VETERAN):
            holders = sum(1 for c in active if c.holds_quota_place and (c.city, c.group) == (city, group))
            assert holders <= QUOTA
            assert service.places_taken(campaign_id, quota_scope(city, group)) == holders
    for group in Group:
        members = sum(1 for c in active if c.group is group)
        assert members <= CAP
        assert service.places_taken(campaign_id, cap_scope(group)) == members

    # A city's team seats exactly its active contestants picked for it, within the limits.
    for city in CITIES:
        team = service.get_team(campaign_id, city)
        seats = dict(team.members) if team else {}
        seated = {str(c.id): c for c in active if c.city == city and c.team_role is not None}
        assert set(seats) == set(seated)
        assert all(c.status in (Status.ADVANCED, Status.AWARDED) for c in seated.values())
        assert sum(1 for r in seats.values() if r == TeamRole.STREAMER) <= MAX_STREAMERS
        assert sum(1 for r in seats.values() if r == TeamRole.ASSISTANT) <= MAX_ASSISTANTS


def refused(
    error: DomainError, expected: set[type[DomainError]], trigger: str, note: Callable[[str], None]
) -> bool:
    """Only a refusal the model foresaw is a right one."""
    assert type(error) in expected, f"{trigger}: {error!r} not expected; expected one of {expected}"
    note(f"{trigger} refused: {type(error).__name__}")
    return False


def apply(
    service: CampaignService, campaign_id: UUID, model: Model, command: Command, note: Callable[[str], None]
) -> bool:
    """Run one command, check its outcome against the model; True when it was accepted."""
    if isinstance(command, Nominate):
        who = command.person()
        timeline = service.get_campaign(campaign_id).timeline
        expected = possible_refusals_of_nomination(model, command, who, timeline)
        actor = actor_of(command.actor, who.city, command.trigger)
        at = nomination_instant(model, who)
        try:
            contestant = service.nominate(
                campaign_id, who, command.channel, DecisionContext(actor=actor, at=at)
            )
        except DomainError as error:
            return refused(error, expected, "nominate", note)
        assert not expected, f"nomination accepted though {expected} applied"
        note("nominate accepted")
        model.contestants[who.id_number.value] = Known(
            contestant.id, who.city, who.group, command.channel, who.account.key, at
        )
        model.claims.setdefault(who.account.key, who.id_number.value)
        return True

    if not model.contestants:
        return False
    candidates = list(model.contestants.values())
    if command.trigger == "next":
        progressing = [k for k in candidates if any(t in PROGRESS for t in allowed_moves(k.status))]
        known = (progressing or candidates)[command.target % len(progressing or candidates)]
        command = replace(command, trigger=next_move(known, command.target))
    if command.aimed:
        sources = MOVES_BY_TRIGGER[command.trigger].sources
        candidates = [k for k in candidates if k.status in sources] or candidates
    known = candidates[command.target % len(candidates)]
    expected = possible_refusals_of_decision(model, command, known)
    at = instant_of(command, known)
    try:
        run_decision(service, command, known)
    except DomainError as error:
        return refused(error, expected, command.trigger, note)
    assert not expected, f"{command.trigger} accepted though {expected} applied"
    note(f"{command.trigger} accepted")
    known.status = MOVES_BY_TRIGGER[command.trigger].dest
    known.last_at = at
    if command.trigger == "advance":
        known.team_role = command.team_role
    elif command.trigger in ("withdraw", "disqualify"):
        known.team_role = None  # the seat goes back to the team with the places
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands)
def test_random_commands_keep_quotas_caps_uniqueness_and_the_table(script: list[Command]) -> None:
    service = CampaignService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    campaign_id = launch(service)
    model = Model()
    for command in script:
        recorded = service.recorder.max_notification_id()
        if apply(service, campaign_id, model, command, event):
            check_invariants(service, campaign_id, model)
        else:
            assert service.recorder.max_notification_id() == recorded, "a refused command recorded events"
    check_invariants(service, campaign_id, model)


def test_the_model_agrees_with_a_hand_written_run() -> None:
    """A fixed script that fills a quota, frees a place and refills it."""
    service = CampaignService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    campaign_id = launch(service)
    model = Model()
    outcomes: list[str] = []

    def nominate(index: int, handle: int, actor: str = "own_staff") -> Nominate:
        return Nominate(index, handle, False, "douyin", WUHAN, Group.VETERAN, Channel.RECOMMENDED, actor)

    script: list[Command] = [nominate(i, i) for i in range(4)]  # the fourth finds the quota full
    script += [nominate(4, 0)]  # a taken account
    script += [Decide("withdraw", 0, False, "own_staff", True, TeamRole.STREAMER), nominate(3, 3)]
    script += [nominate(0, 5)]  # the withdrawn person again: the quota is full once more
    script += [Decide("withdraw", 1, False, "own_staff", True, TeamRole.STREAMER), nominate(0, 5)]
    for command in script:
        apply(service, campaign_id, model, command, outcomes.append)
        check_invariants(service, campaign_id, model)
    assert outcomes == [
        "nominate accepted",
        "nominate accepted",
        "nominate accepted",
        "nominate refused: QuotaFull",
        "nominate refused: DuplicateAccount",
        "withdraw accepted",
        "nominate accepted",
        "nominate refused: QuotaFull",
        "withdraw accepted",
        "nominate accepted",
    ]
    assert len(model.contestants) == 4
    assert service.places_taken(campaign_id, quota_scope(WUHAN, Group.VETERAN)) == QUOTA
    assert service.find_contestant(campaign_id, ID_NUMBERS[0]).account == HANDLES[5]
    assert [k.status for k in model.contestants.values()] == [
        Status.NOMINATED,
        Status.WITHDRAWN,
        Status.NOMINATED,
        Status.NOMINATED,
    ]
