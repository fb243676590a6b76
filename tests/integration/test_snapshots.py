"""A pool's snapshot holds the state its events give at the snapshot's version."""

from __future__ import annotations

import uuid

from eventsourcing.application import project_aggregate
from eventsourcing.domain import Snapshot

from application.service import CampaignService
from domain.errors import DomainError
from domain.places import Allotment
from tests.integration.helpers import LAUNCH, RECOMMENDING, launch


def _take(allotment: Allotment, places: int) -> None:
    for _ in range(places):
        allotment.take(uuid.uuid4(), limit=10**6, refusal=DomainError("full"), at=RECOMMENDING)


def test_snapshots_taken_on_save_match_the_replayed_events(service: CampaignService) -> None:
    pool = Allotment(campaign_id=launch(service), scope="cap:trainee", timestamp=LAUNCH)
    _take(pool, 99)
    service.save(pool)  # ends at version 100: snapshotted as saved
    _take(pool, 150)
    service.save(pool)  # passes version 200 on its way to 250
    assert service.snapshots is not None
    snapshots = list(service.snapshots.get(pool.id))
    assert [s.originator_version for s in snapshots] == [100, 200]
    for snapshot in snapshots:
        assert isinstance(snapshot, Snapshot)
        replayed = project_aggregate(None, service.events.get(pool.id, lte=snapshot.originator_version))
        assert isinstance(replayed, Allotment)
        assert snapshot.state == Snapshot.take(replayed).state
    assert service.repository.get(pool.id, version=200).taken == 199
