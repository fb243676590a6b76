"""Retention: a campaign's policy, its dry run, and the scheduler carrying it out at 00:00 Shanghai."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import NotPermitted, ReasonRequired, RetentionRefused
from domain.events import ERASED
from domain.retention import RetentionPolicy
from domain.timeline import PhaseCode
from domain.values import SCHEDULER, Actor, Role
from scheduler.plan import BoundaryState
from scheduler.runner import BoundaryRunner
from tests.builders import ADMIN, city_staff, shanghai
from tests.integration.helpers import CAMPAIGN, LAUNCH, recommend
from tests.scheduler.helpers import FakeClock

DAYS = 30
DUE = shanghai(2021, 10, 16)  # the ceremony ends at 24:00 on 15 Sep; 30 days later, at 00:00
POLICY_RULE = "保留期满：颁奖典礼结束后 30 天删除个人信息，审计记录保留"


@pytest.fixture
def service(settings: Settings) -> Iterator[CampaignService]:
    built = build_service(settings)
    yield built
    built.close()


def _campaign(service: CampaignService, people: int = 3) -> tuple[UUID, list[UUID]]:
    campaign = service.launch_campaign(
        CAMPAIGN, DecisionContext(actor=ADMIN, at=LAUNCH), retention=RetentionPolicy(DAYS)
    )
    service.record_due_boundaries(campaign, DecisionContext(actor=SCHEDULER, at=shanghai(2021, 6, 10, 10)))
    return campaign, [recommend(service, campaign, seq) for seq in range(1, people + 1)]


def test_the_policy_falls_due_at_shanghai_midnight_and_not_a_second_before(service: CampaignService) -> None:
    campaign, people = _campaign(service)
    assert service.get_campaign(campaign).retention_due == DUE.astimezone(UTC)
    assert DUE.astimezone(UTC) == datetime(2021, 10, 15, 16, tzinfo=UTC)
    clock = FakeClock(DUE - timedelta(seconds=1))
    runner = BoundaryRunner(service, clock)
    runner.start(paused=True)  # catch-up: every phase boundary of 2021 is recorded, nothing erased
    try:
        assert [(jid, at) for jid, at in runner.jobs()] == [
            (f"{campaign}:retention:2021-10-15T16:00:00+00:00", DUE.astimezone(UTC))
        ]
        assert runner.run_due() == []
        assert all(service.get_contestant(p).name.startswith("选手") for p in people)
        plan = service.retention_plan(campaign, ADMIN)
        assert (plan.state, plan.due) == ("pending", DUE.astimezone(UTC))
        assert [person.contestant_id for person in plan.people] == people
        assert runner.retention(campaign).state is BoundaryState.PENDING  # type: ignore[union-attr]

        clock.now = DUE
        (firing,) = runner.run_due()
        assert firing.erased == len(people)
        assert runner.jobs() == []
    finally:
        runner.stop()
    for contestant_id in people:
        contestant = service.get_contestant(contestant_id)
        assert (contestant.name, contestant.erased, contestant.status.value) == (ERASED, True, "nominated")
        erased = service.history(contestant_id)[-1]
        assert (erased.type, erased.user, erased.role) == ("Erased", "scheduler", "scheduler")
        assert str(erased.reason).startswith(POLICY_RULE)
        assert erased.at == DUE.astimezone(UTC)
    done = runner.retention(campaign)
    assert done is not None
    assert (done.state, done.instant, done.actual, done.erased) == (
        BoundaryState.DONE,
        DUE.astimezone(UTC),
        DUE.astimezone(UTC),
        3,
    )
    plan = service.retention_plan(campaign, ADMIN)
    assert (plan.state, plan.people) == ("done", [])
    assert (
        service.carry_out_retention(campaign, DecisionContext(actor=SCHEDULER, at=DUE + timedelta(days=1)))
        is None
    )  # once only


def test_the_dry_run_lists_who_would_go_and_erases_nobody(service: CampaignService) -> None:
    campaign, people = _campaign(service)
    by_hand = DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 20), reason="本人申请删除")
    service.erase(people[0], by_hand)
    plan = service.retention_plan(campaign, Actor(user="auditor-1", role=Role.AUDITOR))
    assert [person.contestant_id for person in plan.people] == people[1:]  # the erased one is gone already
    assert [person.name for person in plan.people] == ["选手2", "选手3"]  # the API masks them
    assert service.get_contestant(people[1]).name == "选手2"
    with pytest.raises(NotPermitted):
        service.retention_plan(campaign, city_staff("武汉市"))
    assert (
        service.carry_out_retention(
            campaign, DecisionContext(actor=SCHEDULER, at=DUE - timedelta(microseconds=1))
        )
        is None
    )
    assert (
        service.carry_out_retention(campaign, DecisionContext(actor=SCHEDULER, at=DUE)) == 2
    )  # by hand before: not erased twice
    assert [e.type for e in service.history(people[0])].count("Erased") == 1


def test_organisers_set_the_policy_with_a_reason_and_the_rule_version_goes_up(
    service: CampaignService,
) -> None:
    campaign = service.launch_campaign(CAMPAIGN, DecisionContext(actor=ADMIN, at=LAUNCH))
    assert service.get_campaign(campaign).retention is None
    assert (
        service.carry_out_retention(campaign, DecisionContext(actor=SCHEDULER, at=DUE)) is None
    )  # no policy, nothing erased
    at = shanghai(2021, 5, 21)
    with pytest.raises(NotPermitted):
        service.set_retention(
            campaign, RetentionPolicy(DAYS), DecisionContext(actor=city_staff("武汉市"), at=at, reason="x")
        )
    with pytest.raises(ReasonRequired):
        service.set_retention(
            campaign, RetentionPolicy(DAYS), DecisionContext(actor=ADMIN, at=at, reason=" ")
        )
    version = service.set_retention(
        campaign, RetentionPolicy(DAYS), DecisionContext(actor=ADMIN, at=at, reason="按规定保留")
    )
    assert version == 2
    with pytest.raises(RetentionRefused):  # the same policy again changes nothing
        service.set_retention(
            campaign, RetentionPolicy(DAYS), DecisionContext(actor=ADMIN, at=at, reason="再次")
        )
    with pytest.raises(RetentionRefused):  # would have fallen due already
        service.set_retention(
            campaign,
            RetentionPolicy(0),
            DecisionContext(actor=ADMIN, at=shanghai(2021, 9, 20), reason="立即"),
        )
    # the ceremony moves a day later: so does the policy, still at midnight
    service.amend_timeline(
        campaign,
        {PhaseCode.CEREMONY: {"closes": shanghai(2021, 9, 16, 22)}},
        DecisionContext(actor=ADMIN, at=at, reason="晚会延后"),
    )
    assert service.get_campaign(campaign).retention_due == shanghai(2021, 10, 17).astimezone(UTC)
    service.set_retention(campaign, None, DecisionContext(actor=ADMIN, at=at, reason="由人工删除"))
    assert service.get_campaign(campaign).retention is None
    kinds = [type(e).__name__ for e in service.events.get(campaign)]
    assert kinds.count("RetentionSet") == 2


def test_the_scheduler_may_not_erase_before_the_policy_is_due(service: CampaignService) -> None:
    campaign, people = _campaign(service, people=1)
    early = DecisionContext(actor=SCHEDULER, at=DUE - timedelta(seconds=1), reason="保留期满")
    with pytest.raises(NotPermitted):
        service.erase(people[0], early)
    assert service.get_contestant(people[0]).name == "选手1"
    service.erase(people[0], DecisionContext(actor=SCHEDULER, at=DUE, reason="保留期满"))
    assert service.get_contestant(people[0]).name == ERASED
    assert (
        service.carry_out_retention(campaign, DecisionContext(actor=SCHEDULER, at=DUE)) == 0
    )  # nobody left, and now it is on record
    with pytest.raises(RetentionRefused):  # carried out, the policy is history
        service.set_retention(
            campaign, RetentionPolicy(60), DecisionContext(actor=ADMIN, at=DUE, reason="改")
        )
