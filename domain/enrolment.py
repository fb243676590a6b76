"""Rules that span a contestant and the pools it draws places from."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.errors import DomainError, GroupCapReached, QuotaFull
from domain.places import Allotment, cap_scope, quota_scope, scopes_of
from domain.team import CityTeam


def contestant_scopes(contestant: Contestant) -> list[str]:
    return scopes_of(contestant.city, contestant.group, contestant.holds_quota_place)


def take_places(
    contestant: Contestant, campaign: Campaign, allotments: Mapping[str, Allotment], at: datetime
) -> None:
    """Take a place in the city quota (recommended trainees and veterans) and the group cap.

    Every limit is checked before any place is taken, so a refusal leaves the pools as they
    were (a batch of nominations goes on with the same pools).
    """
    group, city = contestant.group, contestant.city
    wanted: list[tuple[Allotment, int, DomainError]] = []
    if contestant.holds_quota_place:
        limit = campaign.quota(city, group)
        if limit is not None:
            full = QuotaFull(
                f"nominate: the {city} quota for the {group} group ({group.title}) "
                f"is full: {limit} of {limit} places taken"
            )
            wanted.append((allotments[quota_scope(city, group)], limit, full))
    cap = campaign.cap(group)
    reached = GroupCapReached(
        f"nominate: the {group} group ({group.title}) has reached its cap of {cap} contestants"
    )
    wanted.append((allotments[cap_scope(group)], cap, reached))
    for allotment, limit, refusal in wanted:
        if allotment.taken >= limit:
            raise refusal
    for allotment, limit, refusal in wanted:
        allotment.take(contestant.id, limit=limit, refusal=refusal, at=at)


def free_places(
    contestant: Contestant, allotments: Mapping[str, Allotment], team: CityTeam | None, at: datetime
) -> None:
    """A contestant leaving now gives back its places and its team seat.

    Called once, on the move out of an active status: an active contestant holds one place
    in each pool of ``contestant_scopes`` (the pools count places, they keep no holders).
    """
    for allotment in allotments.values():
        allotment.release(contestant.id, at=at)
    if team is not None:
        team.remove(contestant.id, at=at)
