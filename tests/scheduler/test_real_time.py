"""The runner with the real APScheduler on real time, and leader election on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.service import CampaignService
from domain.decision import DecisionContext
from domain.timeline import PhaseCode
from scheduler.leader import Elector, FileLock, lock_for
from scheduler.plan import BoundaryState, RecordedEdge
from scheduler.runner import BoundaryRunner
from tests.builders import ADMIN
from tests.scheduler.helpers import soon, sqlite_service, sqlite_settings, timeline, wait_until


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CampaignService]:
    built = sqlite_service(tmp_path)
    yield built
    built.close()


@pytest.fixture
def running(service: CampaignService) -> Iterator[tuple[BoundaryRunner, list[RecordedEdge]]]:
    seen: list[RecordedEdge] = []
    runner = BoundaryRunner(service, now, poll_seconds=0.2, on_recorded=seen.append)
    runner.start()
    yield runner, seen
    runner.stop()


def test_timers_record_boundaries_on_time(service: CampaignService) -> None:
    opens, closes = soon(1.5), soon(3.0)
    cid = service.launch_campaign(
        "real time", DecisionContext(actor=ADMIN, at=now()), timeline=timeline(registration=(opens, closes))
    )
    seen: list[RecordedEdge] = []
    runner = BoundaryRunner(service, now, on_recorded=seen.append)
    runner.start()
    try:
        assert wait_until(lambda: len(seen) == 2)
    finally:
        runner.stop()
    assert [(e.code, e.side, e.scheduled) for e in seen] == [
        (PhaseCode.REGISTRATION, "opens", opens),
        (PhaseCode.REGISTRATION, "closes", closes),
    ]
    for edge in seen:
        assert edge.scheduled is not None
        assert timedelta(0) <= edge.actual - edge.scheduled < timedelta(seconds=2)
    assert {b.state for b in runner.plan(cid)} == {BoundaryState.DONE}


def test_launch_and_amendment_while_running_are_picked_up(
    service: CampaignService, running: tuple[BoundaryRunner, list[RecordedEdge]]
) -> None:
    runner, seen = running
    cid = service.launch_campaign(
        "late comer",
        DecisionContext(actor=ADMIN, at=now()),
        timeline=timeline(registration=(soon(1.0), soon(60))),
    )
    assert wait_until(lambda: [(e.code, e.side) for e in seen] == [(PhaseCode.REGISTRATION, "opens")])
    moved = soon(1.5)
    service.amend_timeline(
        cid,
        {PhaseCode.REGISTRATION: {"closes": moved}},
        DecisionContext(actor=ADMIN, at=now(), reason="提前截止"),
    )
    assert wait_until(lambda: len(seen) == 2)
    assert (seen[1].code, seen[1].side, seen[1].scheduled) == (PhaseCode.REGISTRATION, "closes", moved)
    assert runner.jobs() == []


def test_one_active_scheduler_on_sqlite_and_the_standby_takes_over(
    service: CampaignService, tmp_path: Path
) -> None:
    settings = sqlite_settings(tmp_path)
    started: list[str] = []

    class Probe:
        def __init__(self, name: str) -> None:
            self.name = name

        def start(self) -> None:
            started.append(self.name)

        def stop(self) -> None:
            started.append(f"{self.name} stopped")

    said: list[str] = []
    a_lock = lock_for(settings, "host:1")
    assert isinstance(a_lock, FileLock)
    assert a_lock.path == tmp_path / "events.db.scheduler.lock"
    a = Elector(a_lock, lambda: Probe("a"), me="host:1", say=said.append)
    b = Elector(lock_for(settings, "host:2"), lambda: Probe("b"), me="host:2", say=said.append)
    a.step()
    b.step()
    b.step()
    assert (a.active, b.active, started) == (True, False, ["a"])
    assert b.status() == {"me": "host:2", "active": False, "holder": "host:1"}
    assert said == ["scheduler host:1: active", "scheduler host:2: standby; active instance is host:1"]

    stop = threading.Event()
    stop.set()
    a.run(stop)  # stops at once: stops its runner and releases the lock
    b.step()
    assert (a.active, b.active, started) == (False, True, ["a", "a stopped", "b"])
    assert b.status()["holder"] == "host:2"
    b.run(stop)


def test_stopping_while_a_timer_is_recording_waits_for_it_and_ends(service: CampaignService) -> None:
    """The timer, once let go, plans the next boundaries while the runner is stopping."""
    recording, release = threading.Event(), threading.Event()
    seen: list[RecordedEdge] = []

    def held(edge: RecordedEdge) -> None:
        seen.append(edge)
        recording.set()
        release.wait(10)

    service.launch_campaign(
        "stopping",
        DecisionContext(actor=ADMIN, at=now()),
        timeline=timeline(registration=(soon(0.5), soon(60))),
    )
    runner = BoundaryRunner(service, now, on_recorded=held)
    runner.start()
    assert recording.wait(10)
    stopping = threading.Thread(target=runner.stop, daemon=True)
    stopping.start()
    stopping.join(0.5)
    assert stopping.is_alive()  # the timer under way is waited for
    release.set()
    stopping.join(10)
    assert not stopping.is_alive()
    assert [(e.code, e.side) for e in seen] == [(PhaseCode.REGISTRATION, "opens")]
