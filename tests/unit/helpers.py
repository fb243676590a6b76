"""Small builders for the unit tests: instants, actors, people, a launched campaign."""

from __future__ import annotations

from datetime import datetime

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.lifecycle import MOVES, Move, Status
from domain.timeline import PhaseCode, Timeline, hubei_2021
from domain.values import Actor, Channel, Group, Person, Role
from tests.builders import ADMIN, PUBLIC, city_staff, shanghai

WUHAN = "武汉市"
HUANGSHI = "黄石市"

AUDITOR = Actor(user="auditor-1", role=Role.AUDITOR)
SCHEDULER_ACTOR = Actor(user="scheduler", role=Role.SCHEDULER)


def staff(city: str = WUHAN) -> Actor:
    return city_staff(city)


def actor_for(role: Role, city: str = WUHAN) -> Actor:
    """An actor in ``role``; city staff act for ``city``."""
    return Actor(user=f"{role.value}-1", role=role, city=city if role is Role.CITY_STAFF else None)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant in Asia/Shanghai."""
    return shanghai(year, month, day, hour, minute, second)


_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of GB 11643, computed here independently of stdnum."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def resident_id(first17: str) -> str:
    return first17 + check_character(first17)


def person(
    *,
    serial: int = 1,
    city: str = WUHAN,
    group: Group = Group.VETERAN,
    platform: str = "douyin",
    handle: str | None = None,
    id_number: str | None = None,
) -> Person:
    """A valid person; ``serial`` varies the ID number, mobile and handle."""
    return Person.parse(
        name=f"选手{serial}",
        id_number=id_number or resident_id(f"42010219850101{serial:03d}"),
        mobile=f"138{serial:08d}",
        city=city,
        group=group.value,
        platform=platform,
        account=handle or f"streamer_{serial}",
        followers=100 * serial,
    )


def self_registration_open(timeline: Timeline | None = None) -> Timeline:
    """The 2021 timeline with the self-registration channel opening with registration (7 Jun)."""
    base = timeline or hubei_2021()
    return base.amended({PhaseCode.SELF_REGISTRATION: {"opens": sh(2021, 6, 7)}})


def launched(timeline: Timeline | None = None, name: str = "zhanyou-2021") -> Campaign:
    """A campaign launched on 1 May 2021, its launch event already collected."""
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
        name=name,
        timeline=timeline or self_registration_open(),
    )
    campaign.collect_events()
    return campaign


def nominated(
    campaign: Campaign,
    who: Person | None = None,
    channel: Channel = Channel.RECOMMENDED,
    at: datetime | None = None,
) -> Contestant:
    who = who or person()
    actor = staff(who.city) if channel is Channel.RECOMMENDED else PUBLIC
    return Contestant.nominate(
        campaign,
        who,
        channel,
        DecisionContext(actor=actor, at=at or sh(2021, 6, 10)),
        person_key=who.id_number.value,
    )


def move(trigger: str) -> Move:
    return next(m for m in MOVES if m.trigger == trigger)


def reachable_statuses() -> set[Status]:
    """Every status the table can lead to from NEW (NEW itself excluded)."""
    seen: set[Status] = set()
    frontier = {Status.NEW}
    while frontier:
        frontier = {m.dest for m in MOVES if set(m.sources) & frontier} - seen
        seen |= frontier
    return seen
