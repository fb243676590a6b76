"""Events stored by the first release (the person as a plain mapping) still read, on both backends."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.events import PersonRecord
from domain.lifecycle import Status
from domain.values import Group, Platform
from tests.projections.helpers import head, running_views

FIXTURE = json.loads((Path(__file__).parent.parent / "fixtures" / "stored_events_v1.json").read_text())
CONTESTANT = UUID(FIXTURE["contestant_id"])


def _store_fixture(service: CampaignService) -> None:
    service.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=base64.b64decode(row["state"]),
            )
            for row in FIXTURE["events"]
        ]
    )


def test_a_version_1_nomination_reads_as_a_person_record(service: CampaignService) -> None:
    _store_fixture(service)
    nominated = next(iter(service.events.get(CONTESTANT)))
    assert isinstance(nominated, Contestant.Nominated)
    assert nominated.person == PersonRecord(
        name="张三",
        mobile="13800000001",
        city="武汉市",
        group=Group.VETERAN,
        platform=Platform.DOUYIN,
        account="zhangsan_live",
        followers=500000,
        experience="3 年直播带货经验",
        notes="无",
        unit="武汉市退役军人事务局",
        contact="王科长",
    )
    assert nominated.decision.reason == "2020 培训学员"
    assert nominated.decision.command_id is None  # not recorded before command ids
    contestant = service.get_contestant(CONTESTANT)
    assert (contestant.name, contestant.group, contestant.status) == ("张三", Group.VETERAN, Status.VERIFIED)
    assert [entry.type for entry in service.history(CONTESTANT)] == ["Nominated", "Verified"]


def test_views_build_from_version_1_events(service: CampaignService, settings: Settings) -> None:
    _store_fixture(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=10)
        row = views.roster.get(CONTESTANT)
    assert row is not None
    assert (row.name, row.group, row.platform, row.status) == ("张三", "veteran", "douyin", "verified")
    assert row.id_number.count("*") == 8  # masked as ever
