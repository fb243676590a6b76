"""The audit trail: every decision, its filters, and the CSV and .xlsx exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.registrations import DuplicateRegistration
from domain.values import mask_id_number
from projections.audit import HEADER, AuditFilter, write_csv, write_xlsx
from tests.builders import PUBLIC, id_number, make_person, shanghai
from tests.projections.helpers import HUANGSHI, WUHAN, head, running_views, scripted_campaign


def test_every_decision_is_on_the_trail_with_its_filters(
    service: CampaignService, settings: Settings
) -> None:
    script = scripted_campaign(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        audit = views.audit
        everything = audit.entries(AuditFilter(campaign_id=script.campaign_id))

        history = service.history(script.id(1))
        mine = audit.entries(AuditFilter(aggregate_id=script.id(1)))
        assert [(e.version, e.event_type) for e in mine] == [(h.version, h.type) for h in history]
        verified = next(e for e in mine if e.event_type == "Verified")
        assert (verified.actor_user, verified.actor_role, verified.reason, verified.evidence) == (
            "organiser-1",
            "admin",
            "材料齐全",
            "名册第 1 行",
        )
        assert (verified.city, verified.rule_version) == (WUHAN, 1)

        by_staff = audit.entries(AuditFilter(actor="staff-武汉市"))
        assert by_staff
        assert all(e.actor_user == "staff-武汉市" for e in by_staff)
        assert {e.event_type for e in by_staff} == {"Nominated", "Withdrawn", "Advanced"}
        assert {e.actor_city for e in audit.entries(AuditFilter(actor_city=WUHAN))} == {WUHAN}
        huangshi = audit.entries(AuditFilter(city=HUANGSHI))
        assert {e.event_type for e in huangshi} == {
            "Nominated",
            "Verified",
            "Rejected",
            "TrainingAccountAssigned",
            "Trained",
            "Competed",
        }
        leaving = audit.entries(AuditFilter(event_types=("Rejected", "Withdrawn", "Disqualified")))
        assert sorted(e.event_type for e in leaving) == ["Disqualified", "Rejected", "Withdrawn"]
        assert all(e.reason for e in leaving)
        july = audit.entries(AuditFilter(since=shanghai(2021, 7, 1), until=shanghai(2021, 8, 1)))
        assert {e.event_type for e in july} == {"TrainingAccountAssigned", "Trained"}
        team = audit.entries(AuditFilter(event_types=("LeaderAppointed",)))
        assert [(e.aggregate_type, e.city, e.actor_user) for e in team] == [
            ("CityTeam", WUHAN, "organiser-1")
        ]
        phases = audit.entries(AuditFilter(event_types=("PhaseOpened", "PhaseClosed")))
        assert phases
        assert all(e.actor_role == "scheduler" for e in phases)
        assert len(audit.entries(AuditFilter(), limit=5)) == 5
        assert [e.notification_id for e in audit.entries(AuditFilter(), after=everything[2].notification_id)][
            :1
        ] == [everything[3].notification_id]
        # 9 nominations + 8 verifications + 1 rejection + 1 withdrawal + 7 x 3 training/results
        # + 1 disqualification + 5 advances + 1 award = 47 contestant decisions.
        assert sum(1 for e in everything if e.aggregate_type == "Contestant") == 47


def test_exports_to_csv_and_xlsx(service: CampaignService, settings: Settings, tmp_path: Path) -> None:
    script = scripted_campaign(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        entries = views.audit.entries(AuditFilter(campaign_id=script.campaign_id, city=WUHAN))

    out = io.StringIO()
    assert write_csv(entries, out) == len(entries)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == HEADER
    assert len(rows) == len(entries) + 1
    assert rows[1][HEADER.index("event_type")] == "Nominated"

    path = tmp_path / "audit.xlsx"
    assert write_xlsx(entries, path) == len(entries)
    sheet = load_workbook(path, read_only=True)["audit"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == HEADER
    assert len(cells) == len(entries) + 1
    assert cells[1][HEADER.index("city")] == WUHAN


def test_a_repeated_registration_is_shown_in_words_whatever_reason_it_recorded(
    service: CampaignService, settings: Settings
) -> None:
    script = scripted_campaign(service)
    at, matches = shanghai(2021, 6, 10, 10), script.id(1)
    context = DecisionContext(actor=PUBLIC, at=at)
    person = make_person(1, handle="streamer1")
    # as repeats were recorded before their reason left out the rule's code
    earlier = DuplicateRegistration(
        campaign_id=script.campaign_id,
        rule="duplicate_person",
        matches=matches,
        id_number=person.id_number.value,
        person={
            "name": person.name,
            "mobile": person.mobile.value,
            "city": person.city,
            "group": person.group.value,
            "platform": "douyin",
            "account": "streamer1",
        },
        decision=DecisionContext(
            actor=PUBLIC, at=at, reason=f"重复报名（duplicate_person）：身份证号已报名，对应选手 {matches}"
        ).recorded(1),
        timestamp=at,
    )
    later = DuplicateRegistration.record(
        context,
        campaign_id=script.campaign_id,
        person=make_person(20, handle="streamer1"),
        rule="duplicate_account",
        matches=matches,
        rule_version=1,
    )
    service.save(earlier, later)
    [recorded] = list(service.events.get(later.id))
    assert isinstance(recorded, DuplicateRegistration.RegistrationDuplicated)
    assert recorded.decision.reason == f"重复报名：抖音账号已被其他选手使用，对应选手 {matches}"
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        repeats = views.audit.entries(AuditFilter(event_types=("RegistrationDuplicated",)))

    assert [(e.aggregate_type, e.reason) for e in repeats] == [
        (
            "DuplicateRegistration",
            f"重复报名：身份证号已报名，对应选手 {matches}；身份证号 {mask_id_number(id_number(1))}",
        ),
        (
            "DuplicateRegistration",
            f"重复报名：抖音账号已被其他选手使用，对应选手 {matches}；抖音账号 streamer1",
        ),
    ]
