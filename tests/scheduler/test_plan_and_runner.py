"""The runner on a simulated clock: plan, catch-up, re-plan, Shanghai midnights."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.service import CampaignService
from domain.decision import DecisionContext
from domain.timeline import PhaseCode, hubei_2021
from scheduler.plan import BoundaryState, RecordedEdge, job_id, recorded_edges
from scheduler.runner import LAUNCHED_TOPIC, BoundaryRunner
from tests.builders import ADMIN, shanghai
from tests.scheduler.helpers import FakeClock, sqlite_service

NAME = "战友杯 2021"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CampaignService]:
    built = sqlite_service(tmp_path)
    yield built
    built.close()


def make_runner(service: CampaignService, clock: FakeClock) -> tuple[BoundaryRunner, list[RecordedEdge]]:
    seen: list[RecordedEdge] = []
    return BoundaryRunner(service, clock, on_recorded=seen.append), seen


def test_launched_topic_is_the_stored_one(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    (notification,) = service.recorder.select_notifications(start=None, limit=10, topics=[LAUNCHED_TOPIC])
    assert notification.originator_id == cid


def test_boundaries_are_recorded_at_their_instants_in_order(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 5, 1))
    runner, seen = make_runner(service, clock)
    runner.start(paused=True)
    try:
        assert seen == []
        expected = [
            (code, side, instant.astimezone(UTC))
            for instant, side, code in hubei_2021().boundaries()
            if code is not PhaseCode.SELF_REGISTRATION  # its opening is not announced
        ]
        assert [(run_at, jid) for jid, run_at in runner.jobs()] == [
            (instant, job_id(cid, code, side, instant)) for code, side, instant in expected
        ]
        while jobs := runner.jobs():
            clock.now = jobs[0][1]
            runner.run_due()
        assert [(e.code, e.side, e.scheduled) for e in seen] == expected
        assert all(e.actual == e.scheduled for e in seen)
        states = {b.state for b in runner.plan(cid)}
        assert states == {BoundaryState.DONE, BoundaryState.BLOCKED}
    finally:
        runner.stop()


def test_nothing_fires_before_its_instant(service: CampaignService) -> None:
    service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 5, 23, 23, 59, 59))
    runner, seen = make_runner(service, clock)
    runner.start(paused=True)
    try:
        assert runner.run_due() == []
        clock.now = shanghai(2021, 5, 24)
        runner.run_due()
        assert [(e.code, e.side) for e in seen] == [(PhaseCode.PUBLICITY, "opens")]
    finally:
        runner.stop()


def test_midnight_in_shanghai_is_16_utc(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 7, 7, 12))
    runner, seen = make_runner(service, clock)
    runner.start(paused=True)
    try:
        closes = datetime(2021, 7, 7, 16, 0, tzinfo=UTC)  # 24:00 on 7 July in Asia/Shanghai
        jid = job_id(cid, PhaseCode.REGISTRATION, "closes", closes)
        assert jid.endswith(":registration:closes:2021-07-07T16:00:00+00:00")
        assert (jid, closes) in runner.jobs()
        clock.now = closes - timedelta(seconds=1)
        runner.run_due()
        assert (PhaseCode.REGISTRATION, "closes") not in {(e.code, e.side) for e in seen}
        clock.now = closes
        runner.run_due()
        edge = seen[-1]
        assert edge.code is PhaseCode.REGISTRATION
        assert (edge.side, edge.scheduled, edge.actual) == ("closes", closes, closes)
    finally:
        runner.stop()


def test_an_amendment_replans_without_restart(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 6, 10))
    runner, seen = make_runner(service, clock)
    runner.start(paused=True)
    try:
        old = shanghai(2021, 7, 8).astimezone(UTC)
        new = shanghai(2021, 7, 10).astimezone(UTC)  # as training opens
        assert job_id(cid, PhaseCode.REGISTRATION, "closes", old) in dict(runner.jobs())
        service.amend_timeline(
            cid,
            {PhaseCode.REGISTRATION: {"closes": new}},
            DecisionContext(actor=ADMIN, at=clock.now, reason="更多报名"),
        )
        assert runner.poll() == {cid}
        planned = dict(runner.jobs())
        assert job_id(cid, PhaseCode.REGISTRATION, "closes", old) not in planned
        assert planned[job_id(cid, PhaseCode.REGISTRATION, "closes", new)] == new
        assert runner.poll() == set()  # nothing new since
        seen.clear()
        clock.now = old
        runner.run_due()
        assert PhaseCode.REGISTRATION not in {e.code for e in seen}
        clock.now = new
        runner.run_due()
        assert [(e.code, e.side) for e in seen if e.code is PhaseCode.REGISTRATION] == [
            (PhaseCode.REGISTRATION, "closes")
        ]
    finally:
        runner.stop()


def test_a_campaign_launched_while_running_is_planned(service: CampaignService) -> None:
    clock = FakeClock(shanghai(2021, 5, 1))
    runner, _ = make_runner(service, clock)
    runner.start(paused=True)
    try:
        assert runner.jobs() == []
        cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=clock.now))
        assert runner.poll() == {cid}
        assert runner.jobs()[0] == (
            job_id(cid, PhaseCode.PUBLICITY, "opens", shanghai(2021, 5, 24)),
            shanghai(2021, 5, 24).astimezone(UTC),
        )
    finally:
        runner.stop()


def test_catch_up_after_an_outage_records_each_boundary_once_in_order(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 6, 1))
    first, seen_first = make_runner(service, clock)
    first.start(paused=True)
    first.stop()
    assert [(e.code, e.side) for e in seen_first] == [(PhaseCode.PUBLICITY, "opens")]

    clock.now = shanghai(2021, 7, 5, 9, 30)  # the scheduler was down for five weeks
    second, seen = make_runner(service, clock)
    second.start(paused=True)
    second.stop()
    assert [(e.code, e.side, e.scheduled) for e in seen] == [
        (PhaseCode.PUBLICITY, "closes", shanghai(2021, 6, 7)),
        (PhaseCode.REGISTRATION, "opens", shanghai(2021, 6, 7)),
        (PhaseCode.RECOMMENDATION, "opens", shanghai(2021, 6, 7)),
        (PhaseCode.RECOMMENDATION, "closes", shanghai(2021, 7, 2)),
    ]
    assert {e.actual for e in seen} == {clock.now}
    late = {(b.code, b.side) for b in second.plan(cid) if b.state is BoundaryState.LATE}
    assert late == {(e.code, e.side) for e in seen_first + seen}

    third, seen_again = make_runner(service, clock)
    third.start(paused=True)
    third.stop()
    assert seen_again == []
    stored = [(e.code, e.side) for e in recorded_edges(cid, service.events.get(cid))]
    assert len(stored) == len(set(stored)) == 5


def test_an_organiser_override_shows_as_overridden(service: CampaignService) -> None:
    cid = service.launch_campaign(NAME, DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
    clock = FakeClock(shanghai(2021, 5, 10))
    service.open_phase(
        cid, PhaseCode.PUBLICITY, DecisionContext(actor=ADMIN, at=clock.now, reason="提前宣传")
    )
    runner, seen = make_runner(service, clock)
    runner.start(paused=True)
    try:
        assert seen == []
        first = runner.plan(cid)[0]
        assert (first.code, first.side) == (PhaseCode.PUBLICITY, "opens")
        assert first.state is BoundaryState.OVERRIDDEN
        assert first.as_dict()["by"] == "organiser"
        assert first.job_id not in dict(runner.jobs())
    finally:
        runner.stop()
