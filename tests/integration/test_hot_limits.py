"""A shared limit under a surge: writers take turns, across threads and across processes.

Also: pools stored before they kept a count (snapshots listing every holder) still load.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from application.setup_lock import lock_key
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import QuotaFull
from domain.ids import allotment_id
from domain.places import Allotment
from domain.values import CITY_QUOTAS, Channel, Group
from tests.builders import city_staff, make_person
from tests.integration.helpers import RECOMMENDING, launch, race, recommend

HUANGSHI = "黄石市"


@contextmanager
def refused_saves(service: CampaignService) -> Iterator[list[BaseException]]:
    """Every save the store refuses (a lost race, retried) while the block runs."""
    refused: list[BaseException] = []
    original = service.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        try:
            return original(*objs, **kwargs)
        except IntegrityError as error:
            refused.append(error)
            raise

    service.save = save  # type: ignore[method-assign]
    try:
        yield refused
    finally:
        del service.save


def test_sixteen_writers_into_one_group_cap_queue_and_none_collides(service: CampaignService) -> None:
    cities = list(CITY_QUOTAS)
    campaign_id = launch(service, quotas={city: {Group.TRAINEE: 50} for city in cities})
    recommend(service, campaign_id, 999)  # the campaign and the cap are stored and cached

    calls = [
        partial(recommend, service, campaign_id, seq, city=cities[seq % len(cities)]) for seq in range(16)
    ]
    with refused_saves(service) as refused:
        outcomes = race(calls)

    assert all(isinstance(o, UUID) for o in outcomes), outcomes
    assert refused == []
    assert service.places_taken(campaign_id, "cap:trainee") == 17


def _claim_in_process(
    settings_fields: dict[str, Any], campaign_id: UUID, seqs: list[int], go: Any
) -> list[str]:
    """One process of the race: a thread per person, all released by the parent at once."""
    service = build_service(Settings.load(**settings_fields))
    try:
        staff = city_staff(HUANGSHI)

        def claim(seq: int) -> Contestant:
            go.wait(30)
            person = make_person(seq, city=HUANGSHI)
            return service.nominate(
                campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=RECOMMENDING)
            )

        return [type(o).__name__ for o in race([partial(claim, seq) for seq in seqs])]
    finally:
        service.close()


def test_processes_racing_for_five_places_get_exactly_five(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service, quotas={HUANGSHI: {Group.TRAINEE: 5}})
    fields = {
        "database_url": settings.database_url,
        "database_schema": settings.database_schema,
        "cipher_key": None,
        "id_secret": None,
    }
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        go = manager.Event()
        with spawn.Pool(3) as pool:
            pending = [
                pool.apply_async(_claim_in_process, (fields, campaign_id, list(range(n, 18, 3)), go))
                for n in range(3)
            ]
            go.set()
            outcomes = [name for result in pending for name in result.get(timeout=120)]

    assert sorted(outcomes) == ["Contestant"] * 5 + ["QuotaFull"] * 13
    assert service.places_taken(campaign_id, "quota:黄石市:trainee") == 5
    assert service.places_taken(campaign_id, "cap:trainee") == 5


def test_a_pool_snapshot_listing_its_holders_is_read_as_a_count(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service, quotas={HUANGSHI: {Group.TRAINEE: 3}})
    holders = [recommend(service, campaign_id, seq, city=HUANGSHI) for seq in (1, 2)]
    pool_id = allotment_id(campaign_id, "quota:黄石市:trainee")
    current: Allotment = service.repository.get(pool_id)
    state = {k: v for k, v in vars(current).items() if k not in ("_id", "_version", "_pending_events")}
    del state["taken"]
    state["holders"] = [str(h) for h in holders]  # the shape before pools kept a count
    old = Snapshot(
        originator_id=pool_id,
        originator_version=current.version,
        timestamp=Snapshot.create_timestamp(),
        topic=get_topic(Allotment),
        state=state,
    )
    assert service.snapshots is not None
    service.snapshots.put([old])

    reopened = build_service(settings)  # nothing cached: the pool is read from the snapshot
    try:
        assert reopened.places_taken(campaign_id, "quota:黄石市:trainee") == 2
        recommend(reopened, campaign_id, 3, city=HUANGSHI)
        outcome = race([partial(recommend, reopened, campaign_id, 4, city=HUANGSHI)])
        assert isinstance(outcome[0], QuotaFull)
        assert "3 of 3" in str(outcome[0])
        assert reopened.places_taken(campaign_id, "quota:黄石市:trainee") == 3
    finally:
        reopened.close()


def test_a_decision_on_cached_pools_waits_for_another_process_holding_them(
    service: CampaignService, settings: Settings
) -> None:
    if not settings.is_postgres:
        pytest.skip("advisory locks: PostgreSQL only")
    campaign_id = launch(service, quotas={HUANGSHI: {Group.TRAINEE: 5}})
    recommend(service, campaign_id, 1, city=HUANGSHI)  # the campaign and the pools cached
    cap = allotment_id(campaign_id, "cap:trainee")
    key = lock_key(f"zhanyou limit:{settings.database_schema}:{cap}")
    with psycopg.connect(settings.database_url) as rival:  # another process, between its read and its save
        rival.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(recommend, service, campaign_id, 2, city=HUANGSHI)
            time.sleep(0.5)
            assert not second.done()  # its insert waits in its own transaction
            rival.commit()
            assert isinstance(second.result(timeout=10), UUID)
    assert service.places_taken(campaign_id, "cap:trainee") == 2
