"""Stored events of earlier layouts still read, on both backends.

``stored_events_v1.json``: the first release, the person as a plain mapping beside the ID
number. ``stored_events_v2.json``: every aggregate's events as stored in December 2026,
written by ``tests/fixtures/record_stored_events.py`` while events were still named by
strings; the declared event classes read it as it is, under the same topics.
"""

from __future__ import annotations

import base64
import json
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.person_keys import PLAIN, KeyTable
from application.service import CampaignService
from application.settings import Settings
from domain.access import PersonalDataLog
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.events import ERASED, PersonRecord
from domain.lifecycle import Status
from domain.places import AccountClaim, Allotment
from domain.registrations import DuplicateRegistration
from domain.team import CityTeam
from domain.timeline import SHANGHAI, PhaseCode, PhaseStatus
from domain.users import User, UsernameClaim
from domain.values import Channel, Group, Platform, Role
from projections.audit import AuditFilter
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
        id_number="420102198501010016",
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


V2 = json.loads((Path(__file__).parent.parent / "fixtures" / "stored_events_v2.json").read_text())
IDS = {name: UUID(value) for name, value in V2["aggregates"].items()}
WUHAN = "武汉市"

#: Every fact of every aggregate, and the topic it was stored under.
STORED_AS: dict[type[Any], str] = {
    Campaign.CampaignLaunched: "domain.campaign:Campaign.CampaignLaunched",
    Campaign.TimelineAmended: "domain.campaign:Campaign.TimelineAmended",
    Campaign.PhaseOpened: "domain.campaign:Campaign.PhaseOpened",
    Campaign.PhaseClosed: "domain.campaign:Campaign.PhaseClosed",
    CityTeam.TeamFormed: "domain.team:CityTeam.TeamFormed",
    CityTeam.MemberAdded: "domain.team:CityTeam.MemberAdded",
    CityTeam.MemberRemoved: "domain.team:CityTeam.MemberRemoved",
    CityTeam.LeaderAppointed: "domain.team:CityTeam.LeaderAppointed",
    CityTeam.FinalsEntered: "domain.team:CityTeam.FinalsEntered",
    CityTeam.TeamAwarded: "domain.team:CityTeam.TeamAwarded",
    Allotment.AllotmentOpened: "domain.places:Allotment.AllotmentOpened",
    Allotment.PlaceTaken: "domain.places:Allotment.PlaceTaken",
    Allotment.PlaceReleased: "domain.places:Allotment.PlaceReleased",
    AccountClaim.AccountClaimed: "domain.places:AccountClaim.AccountClaimed",
    User.UserCreated: "domain.users:User.UserCreated",
    User.UserDisabled: "domain.users:User.UserDisabled",
    User.UserEnabled: "domain.users:User.UserEnabled",
    User.TokenRotated: "domain.users:User.TokenRotated",
    UsernameClaim.UsernameClaimed: "domain.users:UsernameClaim.UsernameClaimed",
    PersonalDataLog.PersonalDataLogOpened: "domain.access:PersonalDataLog.PersonalDataLogOpened",
    PersonalDataLog.PersonalDataRead: "domain.access:PersonalDataLog.PersonalDataRead",
    DuplicateRegistration.RegistrationDuplicated: (
        "domain.registrations:DuplicateRegistration.RegistrationDuplicated"
    ),
    Contestant.Nominated: "domain.contestant:Contestant.Nominated",
    Contestant.Verified: "domain.contestant:Contestant.Verified",
    Contestant.Rejected: "domain.contestant:Contestant.Rejected",
    Contestant.Reconsidered: "domain.contestant:Contestant.Reconsidered",
    Contestant.TrainingAccountAssigned: "domain.contestant:Contestant.TrainingAccountAssigned",
    Contestant.Trained: "domain.contestant:Contestant.Trained",
    Contestant.Competed: "domain.contestant:Contestant.Competed",
    Contestant.Advanced: "domain.contestant:Contestant.Advanced",
    Contestant.Awarded: "domain.contestant:Contestant.Awarded",
    Contestant.Withdrawn: "domain.contestant:Contestant.Withdrawn",
    Contestant.Disqualified: "domain.contestant:Contestant.Disqualified",
    Contestant.Erased: "domain.contestant:Contestant.Erased",
}


def _stored_v2() -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(row["originator_id"]),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=base64.b64decode(row["state"]),
        )
        for row in V2["events"]
    ]


def _store_v2(service: CampaignService) -> None:
    keys = service.recorder
    assert isinstance(keys, KeyTable)
    for subject, key in V2["person_keys"].items():
        keys.insert_person_key(UUID(subject), base64.b64decode(key) if key else b"", PLAIN)
        if key is None:
            keys.destroy_person_keys([UUID(subject)])
    service.recorder.insert_events(_stored_v2())


def test_the_fixture_holds_every_fact_and_the_declared_classes_keep_their_topics() -> None:
    assert {row["topic"] for row in V2["events"]} == set(STORED_AS.values())
    assert {kind: get_topic(kind) for kind in STORED_AS} == STORED_AS


def test_every_stored_event_reads_as_its_declared_class(service: CampaignService) -> None:
    _store_v2(service)
    by_topic = {topic: kind for kind, topic in STORED_AS.items()}
    for stored in _stored_v2():
        event: Any = service.mapper.to_domain_event(stored)
        kind = by_topic[stored.topic]
        assert type(event) is kind
        declared = {f.name for f in fields(kind)}
        assert set(vars(event)) <= declared, f"{stored.topic} stores fields its class does not declare"
        assert isinstance(event.timestamp, datetime)


def test_the_stored_values_read_typed(service: CampaignService) -> None:
    _store_v2(service)

    def first(kind: type[Any]) -> Any:
        topic = STORED_AS[kind]
        stored = next(s for s in _stored_v2() if s.topic == topic)
        return service.mapper.to_domain_event(stored)

    launched = first(Campaign.CampaignLaunched)
    assert launched.quotas[WUHAN] == {"trainee": 5, "veteran": 1}
    assert launched.timeline["publicity"]["opens"] == datetime(2021, 5, 24, tzinfo=SHANGHAI)
    assert launched.decision.actor.role is Role.ADMIN
    amended = first(Campaign.TimelineAmended)
    assert amended.changes == {
        "ceremony": {
            "closes": [datetime(2021, 9, 16, tzinfo=SHANGHAI), datetime(2021, 9, 20, 18, tzinfo=SHANGHAI)]
        }
    }
    assert amended.decision.reason == "颁奖典礼延长"
    opened = first(Campaign.PhaseOpened)
    assert (opened.code, opened.by, opened.decision.actor.role) == ("publicity", "scheduler", Role.SCHEDULER)
    added = first(CityTeam.MemberAdded)
    assert (added.contestant_id, added.role) == (str(IDS["awarded"]), "streamer")
    leader = first(CityTeam.LeaderAppointed)
    assert (leader.name, leader.staff_user, leader.decision.actor.role, leader.decision.rule_version) == (
        "王科长",
        "staff-武汉市",
        Role.ADMIN,
        3,
    )
    entered = first(CityTeam.FinalsEntered)
    assert (entered.overridden, entered.gaps) == (False, [])
    claimed = first(AccountClaim.AccountClaimed)
    assert (claimed.account_key, claimed.contestant_id) == ("douyin:streamer1", IDS["awarded"])
    rotated = first(User.TokenRotated)
    assert rotated.token_expires_at == datetime(2021, 12, 31, tzinfo=SHANGHAI)
    read = first(PersonalDataLog.PersonalDataRead)
    assert (read.actor.user, read.fields) == ("staff-武汉市", ["id_number", "mobile"])
    repeat = first(DuplicateRegistration.RegistrationDuplicated)
    assert (repeat.rule, repeat.matches, repeat.person["account"]) == (
        "duplicate_account",
        IDS["awarded"],
        "streamer1",
    )


def test_every_aggregate_rebuilds_from_the_stored_events(service: CampaignService) -> None:
    _store_v2(service)
    campaign = service.get_campaign(IDS["campaign"])
    assert campaign.rule_version == 3
    assert campaign.phase_status[PhaseCode.FINALS] is PhaseStatus.CLOSED
    assert campaign.phase_status[PhaseCode.CEREMONY] is PhaseStatus.OPEN
    team = service.get_team(IDS["campaign"], WUHAN)
    assert team is not None
    assert team.id == IDS["team"]
    assert (team.leader, team.entered_finals, team.awards) == (
        {"name": "王科长", "staff_user": "staff-武汉市"},
        True,
        ("优秀组织奖",),
    )
    assert team.is_complete
    assert str(IDS["withdrawn"]) not in team.members
    user = service.get_user(IDS["user"])
    assert user is not None
    assert (user.username, user.role, user.city, user.disabled) == (
        "staff-武汉市",
        Role.CITY_STAFF,
        WUHAN,
        False,
    )
    assert user.token_hash == "2" * 64
    claim: UsernameClaim = service.repository.get(IDS["username_claim"])
    assert claim.username == "staff-武汉市"
    quota: Allotment = service.repository.get(IDS["quota"])
    assert (quota.scope, quota.taken) == ("quota:武汉市:trainee", 4)
    account: AccountClaim = service.repository.get(IDS["account_claim"])
    assert account.contestant_id == IDS["awarded"]
    assert [r["user"] for r in service.personal_data_reads(IDS["awarded"])] == ["staff-武汉市"]
    repeat: DuplicateRegistration = service.repository.get(IDS["repeat"])
    assert (repeat.rule, repeat.matches) == ("duplicate_account", IDS["awarded"])
    awarded = service.get_contestant(IDS["awarded"])
    assert (awarded.name, awarded.status, awarded.awards) == ("选手1", Status.AWARDED, ["一等奖"])
    assert service.get_contestant(IDS["withdrawn"]).status is Status.WITHDRAWN
    erased = service.get_contestant(IDS["erased"])
    assert (erased.name, erased.status) == (ERASED, Status.DISQUALIFIED)
    assert service.get_contestant(IDS["self_registered"]).channel is Channel.SELF
    assert [entry.type for entry in service.history(IDS["awarded"])] == [
        "Nominated",
        "Rejected",
        "Reconsidered",
        "Verified",
        "TrainingAccountAssigned",
        "Trained",
        "Competed",
        "Advanced",
        "Awarded",
    ]


def test_every_view_builds_from_the_stored_events(service: CampaignService, settings: Settings) -> None:
    _store_v2(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=20)
        awarded = views.roster.get(IDS["awarded"])
        erased = views.roster.get(IDS["erased"])
        (team,) = views.teams.teams(IDS["campaign"])
        taken = views.quotas.taken(IDS["campaign"], "quota:武汉市:trainee")
        phases = views.phases.log(IDS["campaign"])
        audit = views.audit.entries(AuditFilter())
    assert awarded is not None
    assert (awarded.name, awarded.status, awarded.award) == (
        "选手1",
        "awarded",
        "一等奖",
    )
    assert erased is not None
    assert (erased.name, erased.status) == (ERASED, "disqualified")
    assert (team.leader_name, team.finals, team.awards, team.complete) == (
        "王科长",
        "entered",
        "优秀组织奖",
        True,
    )
    assert taken == 4
    assert len(phases) == 17
    types = {entry.event_type for entry in audit}
    assert {"CampaignLaunched", "TimelineAmended", "LeaderAppointed", "FinalsEntered", "TeamAwarded"} <= types
    assert {"RegistrationDuplicated", "UserCreated", "TokenRotated", "Reconsidered", "Erased"} <= types
