"""A `zhanyou project` worker killed with kill -9 mid-way resumes exactly where it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.values import CITY_QUOTAS, Group
from projections import open_views
from projections.audit import AuditFilter
from projections.base import ViewProjection
from projections.rebuild import rebuild
from tests.builders import ADMIN
from tests.integration.helpers import REVIEWING, launch, recommend
from tests.projections.helpers import head

pytestmark = pytest.mark.slow

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))
PEOPLE = 480


def until_position(
    views: list[ViewProjection], app_name: str, target: int, worker: subprocess.Popen[bytes]
) -> None:
    """Watch the tracked positions closely (the library's wait backs off up to 0.8 s)."""
    deadline = time.monotonic() + 120
    while min(view.position(app_name) for view in views) < target:
        assert worker.poll() is None, "the worker died"
        assert time.monotonic() < deadline, f"no view reached notification {target}"
        time.sleep(0.002)


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env["ZHANYOU_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["ZHANYOU_DATABASE_SCHEMA"] = settings.database_schema
    return env


def start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [ZHANYOU, "project", "--batch", "3", "--poll", "0.05"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=worker_env(settings),
        )


def test_a_killed_worker_resumes_without_double_counting(
    service: CampaignService, settings: Settings, tmp_path: Path
) -> None:
    campaign = launch(service, quotas={city: {Group.TRAINEE: 40, Group.VETERAN: 40} for city in CITY_QUOTAS})
    cities = list(CITY_QUOTAS)
    ids = [
        recommend(
            service, campaign, seq, city=cities[seq % len(cities)], group=("trainee", "veteran")[seq % 2]
        )
        for seq in range(PEOPLE)
    ]
    for contestant in ids[::2]:
        service.decide(contestant, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    for contestant in ids[1::6]:
        service.decide(
            contestant, decisions.WITHDRAW, DecisionContext(actor=ADMIN, at=REVIEWING, reason="个人原因")
        )
    last = head(service)
    assert last > 2000

    views = open_views(settings)
    log = tmp_path / "worker.log"
    try:
        worker = start(settings, log)
        try:
            until_position(views.all, service.name, last // 5, worker)
        finally:
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(30) == -signal.SIGKILL
        positions = {name: view.position(service.name) for name, view in views.by_name.items()}
        assert min(positions.values()) < last, "the worker finished before it was killed"

        worker = start(settings, log)
        try:
            for view in views.all:
                view.view.wait(service.name, last, timeout=120)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(30) == 0
        assert "projections: stopped at" in log.read_text()

        assert views.roster.query(campaign).total == PEOPLE
        for row in views.quotas.quotas(campaign):
            assert row.active == service.places_taken(campaign, f"quota:{row.city}:{row.group}")
        for cap in views.quotas.caps(campaign):
            assert cap.active == service.places_taken(campaign, f"cap:{cap.group}")
        decided = PEOPLE + len(ids[::2]) + len(ids[1::6])
        audit = views.audit.entries(AuditFilter(campaign_id=campaign))
        assert sum(1 for e in audit if e.aggregate_type == "Contestant") == decided
        funnel = views.funnel.funnel(campaign)
        assert (funnel.total("nominated"), funnel.total("verified"), funnel.total("withdrawn")) == (
            PEOPLE,
            len(ids[::2]),
            len(ids[1::6]),
        )

        survived = {name: view.dump() for name, view in views.by_name.items()}
    finally:
        views.close()
    for name in survived:
        rebuild(service, settings, name)
    rebuilt = open_views(settings)
    try:
        assert {name: view.dump() for name, view in rebuilt.by_name.items()} == survived
    finally:
        rebuilt.close()
