"""A scripted campaign whose every view row is known, and a runner for the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.team import TeamRole
from domain.values import SCHEDULER, Group
from projections import Views, open_views
from projections.runner import ProjectionRunner
from tests.builders import ADMIN, JUDGE, city_staff, shanghai
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch, recommend

WUHAN, HUANGSHI = "武汉市", "黄石市"
QUOTAS = {WUHAN: {Group.TRAINEE: 3, Group.VETERAN: 2}, HUANGSHI: {Group.TRAINEE: 2, Group.VETERAN: 1}}
SCORES = {"short_video": 80, "account_operation": 70.5, "livestream_selling": 90}
TRAINING = shanghai(2021, 7, 12, 9)
TRAINED = shanghai(2021, 7, 18, 17)
RESULTS = shanghai(2021, 8, 30, 20)
PICKED = shanghai(2021, 9, 2, 10)
AWARDED = shanghai(2021, 9, 15, 20)


@dataclass
class Script:
    """What the scripted campaign did, by the person's sequence number."""

    campaign_id: UUID
    ids: dict[int, UUID] = field(default_factory=dict)

    def id(self, seq: int) -> UUID:
        return self.ids[seq]


def scripted_campaign(service: CampaignService) -> Script:
    """Wuhan: trainees 1-3, veterans 4-5, families 6-7; Huangshi: trainees 8-9.

    9 is rejected, 3 withdraws, 7 is disqualified after competing; 1, 2, 4, 5 become Wuhan's
    streamers and 6 its assistant, with a leader; 1 wins an award. The scheduler records
    every phase boundary up to the ceremony.
    """
    campaign = launch(service, quotas=QUOTAS)
    script = Script(campaign)
    service.record_due_boundaries(campaign, DecisionContext(actor=SCHEDULER, at=RECOMMENDING))
    people = {
        1: (WUHAN, "trainee"),
        2: (WUHAN, "trainee"),
        3: (WUHAN, "trainee"),
        4: (WUHAN, "veteran"),
        5: (WUHAN, "veteran"),
        6: (WUHAN, "family"),
        7: (WUHAN, "family"),
        8: (HUANGSHI, "trainee"),
        9: (HUANGSHI, "trainee"),
    }
    for seq, (city, group) in people.items():
        script.ids[seq] = recommend(service, campaign, seq, city=city, group=group)
    service.decide(
        script.id(9),
        decisions.REJECT,
        DecisionContext(actor=ADMIN, at=REVIEWING, reason="不是 2020 年培训学员", evidence="名册无此人"),
    )
    for seq in range(1, 9):
        service.decide(
            script.id(seq),
            decisions.VERIFY,
            DecisionContext(actor=ADMIN, at=REVIEWING, reason="材料齐全", evidence=f"名册第 {seq} 行"),
        )
    service.decide(
        script.id(3),
        decisions.WITHDRAW,
        DecisionContext(actor=city_staff(WUHAN), at=REVIEWING, reason="个人原因"),
    )
    active = [1, 2, 4, 5, 6, 7, 8]
    for seq in active:
        service.decide(
            script.id(seq),
            decisions.assign_training_account(f"hb-train-{seq:04d}"),
            DecisionContext(actor=ADMIN, at=TRAINING),
        )
        service.decide(script.id(seq), decisions.RECORD_TRAINING, DecisionContext(actor=JUDGE, at=TRAINED))
        service.decide(
            script.id(seq), decisions.record_results(dict(SCORES)), DecisionContext(actor=JUDGE, at=RESULTS)
        )
    service.decide(
        script.id(7),
        decisions.DISQUALIFY,
        DecisionContext(actor=ADMIN, at=RESULTS, reason="刷单", evidence="平台通报"),
    )
    service.record_due_boundaries(campaign, DecisionContext(actor=SCHEDULER, at=PICKED))
    for seq in (1, 2, 4, 5):
        service.decide(
            script.id(seq),
            decisions.advance(TeamRole.STREAMER),
            DecisionContext(actor=city_staff(WUHAN), at=PICKED, reason="成绩优秀"),
        )
    service.decide(
        script.id(6),
        decisions.advance(TeamRole.ASSISTANT),
        DecisionContext(actor=city_staff(WUHAN), at=PICKED),
    )
    service.create_user(
        "staff-武汉市", "city_staff", WUHAN, "0" * 64, DecisionContext(actor=ADMIN, at=PICKED)
    )
    service.appoint_team_leader(
        campaign, WUHAN, DecisionContext(actor=ADMIN, at=PICKED), name="王科长", staff_user="staff-武汉市"
    )
    service.record_due_boundaries(campaign, DecisionContext(actor=SCHEDULER, at=AWARDED))
    service.decide(
        script.id(1), decisions.award("一等奖"), DecisionContext(actor=ADMIN, at=AWARDED, reason="决赛第一名")
    )
    return script


def stored_verification(service: CampaignService, campaign_id: UUID) -> StoredEvent:
    """Recommend and verify person 1; the stored Verified event, to copy into strange places."""
    first = recommend(service, campaign_id, 1)
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    return service.recorder.select_events(first, gt=1, limit=1)[0]


def head(service: CampaignService) -> int:
    return int(service.recorder.max_notification_id() or 0)


@contextmanager
def running_views(
    service: CampaignService, settings: Settings, **options: float
) -> Iterator[tuple[Views, ProjectionRunner]]:
    """Every view with a runner in a background thread; closed afterwards."""
    views = open_views(settings)
    runner = ProjectionRunner(
        service,
        views.all,
        poll_seconds=options.get("poll_seconds", 0.05),
        retry_seconds=options.get("retry_seconds", 0.2),
    )
    try:
        with runner:
            yield views, runner
    finally:
        views.close()
