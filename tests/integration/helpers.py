"""What several integration tests share: the campaign's usual instants and a thread race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from application.service import CampaignService
from domain.decision import DecisionContext
from domain.values import Channel, Group
from tests.builders import ADMIN, city_staff, make_person, shanghai

T = TypeVar("T")

CAMPAIGN = "战友杯 2021"
LAUNCH = shanghai(2021, 5, 20, 9)  # before publicity opens
RECOMMENDING = shanghai(2021, 6, 10, 10)  # recommendation is open (7 Jun - 1 Jul)
REVIEWING = shanghai(2021, 6, 20, 15)  # review is possible until online training opens


def launch(
    service: CampaignService,
    name: str = CAMPAIGN,
    *,
    quotas: Mapping[str, Mapping[Group, int]] | None = None,
    caps: Mapping[Group, int] | None = None,
) -> UUID:
    """A campaign on the hubei-2021 timeline, launched by the organisers."""
    return service.launch_campaign(name, DecisionContext(actor=ADMIN, at=LAUNCH), quotas=quotas, caps=caps)


def recommend(
    service: CampaignService,
    campaign_id: UUID,
    seq: int,
    city: str = "武汉市",
    group: str = "trainee",
    at: datetime = RECOMMENDING,
) -> UUID:
    """Recommend person ``seq`` through the city's bureau; returns the contestant id."""
    person = make_person(seq, city=city, group=group)
    return service.nominate(
        campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=city_staff(city), at=at)
    ).id


def race(calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Run every call in its own thread, all released at once; each result or exception, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as error:  # the outcome under test, returned for inspection
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
