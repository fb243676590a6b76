"""Consistency aggregates for limits that span contestants: quotas, caps, accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import account_claim_id, allotment_id
from domain.values import Group


def quota_scope(city: str, group: Group) -> str:
    return f"quota:{city}:{group.value}"


def cap_scope(group: Group) -> str:
    return f"cap:{group.value}"


class Allotment(Aggregate):
    """Places of one limited pool (a city's quota for a group, or a group's cap).

    Every nomination that takes a place saves this aggregate too, so two nominations
    racing for the last place conflict in the event store (the service queues writers of
    one pool, so they rarely do). The state is a count, not the list of holders: loading a
    pool costs the same at 10 and at 10,000 places. Holding is the contestant's own fact:
    every active contestant holds one place in each pool of ``scopes_of`` its city and
    group, and gives it back once, when it leaves.
    """

    class_version = 2  # of the snapshots

    # --- the facts -------------------------------------------------------------

    class AllotmentOpened(Aggregate.Created):
        """:ivar scope: ``quota:<city>:<group>`` or ``cap:<group>``."""

        campaign_id: UUID
        scope: str

        class_version = 1

    class PlaceTaken(Aggregate.Event):
        """:ivar contestant_id: the contestant's id as text."""

        contestant_id: str

        class_version = 1

    class PlaceReleased(Aggregate.Event):
        """:ivar contestant_id: the contestant's id as text."""

        contestant_id: str

        class_version = 1

    @staticmethod
    def create_id(campaign_id: UUID, scope: str) -> UUID:
        return allotment_id(campaign_id, scope)

    @event(AllotmentOpened)
    def __init__(self, campaign_id: UUID, scope: str, timestamp: datetime) -> None:
        self.campaign_id = campaign_id
        self.scope = scope
        self.taken = 0

    def take(self, contestant_id: UUID, *, limit: int, refusal: DomainError, at: datetime) -> None:
        """Take a place for the (new) contestant, or raise ``refusal`` when none is left."""
        if self.taken >= limit:
            raise refusal
        self._place_taken(contestant_id=str(contestant_id), timestamp=at)

    @event(PlaceTaken)
    def _place_taken(self, contestant_id: str, timestamp: datetime) -> None:
        self.taken += 1

    def release(self, contestant_id: UUID, *, at: datetime) -> None:
        """Give back the place of a contestant that held one and is leaving now."""
        if self.taken > 0:
            self._place_released(contestant_id=str(contestant_id), timestamp=at)

    @event(PlaceReleased)
    def _place_released(self, contestant_id: str, timestamp: datetime) -> None:
        self.taken -= 1

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Snapshots taken before version 2 listed every holder; only their number is kept."""
        state["taken"] = len(state.pop("holders"))


class AccountClaim(Aggregate):
    """A livestream account, claimed once per campaign and never handed on."""

    class AccountClaimed(Aggregate.Created):
        """:ivar account_key: the account's pseudonym (``platform:handle`` keyed when there is a key)."""

        campaign_id: UUID
        account_key: str
        contestant_id: UUID

        class_version = 1

    @staticmethod
    def create_id(campaign_id: UUID, account_key: str) -> UUID:
        return account_claim_id(campaign_id, account_key)

    @classmethod
    def claim(cls, campaign_id: UUID, account_key: str, contestant_id: UUID, at: datetime) -> AccountClaim:
        """``account_key``: the account's pseudonym, so the claim's id reveals no handle."""
        return cls(
            campaign_id=campaign_id,
            account_key=account_key,
            contestant_id=contestant_id,
            timestamp=at,
        )

    @event(AccountClaimed)
    def __init__(self, campaign_id: UUID, account_key: str, contestant_id: UUID, timestamp: datetime) -> None:
        self.campaign_id = campaign_id
        self.account_key = account_key
        self.contestant_id = contestant_id


def scopes_of(city: str, group: Group, holds_quota_place: bool) -> list[str]:
    """The pools a contestant takes a place in: the group cap, and the city quota if recommended."""
    scopes = [cap_scope(group)]
    if holds_quota_place:
        scopes.insert(0, quota_scope(city, group))
    return scopes
