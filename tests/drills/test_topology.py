"""The compose topology as processes: 2 API, 2 schedulers and 1 projection worker on one PostgreSQL.

Every process stands for the roles it may take (the API processes for all of them) and
elections decide who is active. The drill checks that they cooperate: exactly one
active instance per role; a write through one API is read through the other; the
active projection runner killed with ``kill -9`` is replaced and the views end equal to a
rebuild from the log; the active scheduler killed with ``kill -9`` is replaced and each
phase boundary is recorded exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from application.bootstrap import build_service
from domain.decision import DecisionContext
from domain.timeline import PhaseCode
from projections import VIEW_CLASSES, open_views
from projections.rebuild import rebuild
from scheduler.leader import PROJECTIONS, SCHEDULER, lock_for
from scheduler.plan import recorded_edges
from tests.builders import ADMIN, id_number, mobile
from tests.conftest import fresh_schema, load_settings
from tests.drills.processes import ADMIN as ADMIN_HEADERS
from tests.drills.processes import Process, Server, pg_key_fields, store_env, wait_until
from tests.scheduler.helpers import soon, timeline
from tests.topology_timeline import open_timeline

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(300)]


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    with fresh_schema(pg_dsn) as name:
        yield name


class Clerk:
    """A city clerk nominating through one API and reading through another."""

    def __init__(self, admin: httpx.Client) -> None:
        answer = admin.post(
            "/api/users", json={"username": "wuhan-1", "role": "city_staff", "city": "武汉市"}
        )
        assert answer.status_code == 201, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['token']}"}
        answer = admin.post("/api/campaigns", json={"name": "topology", "timeline": open_timeline()})
        assert answer.status_code == 201, answer.text
        self.campaign = answer.json()["id"]
        self.seq = 0

    def nominate(self, url: str) -> int:
        self.seq += 1
        n = self.seq
        form = {
            "group": "veteran",
            "city": "武汉市",
            "name": f"选手{n}",
            "id_number": id_number(n),
            "mobile": mobile(n),
            "platform": "抖音",
            "account": f"topology_{n}",
            "followers": 100 + n,
        }
        answer = httpx.post(
            f"{url}/api/campaigns/{self.campaign}/contestants", json=form, headers=self.headers, timeout=10
        )
        assert answer.status_code == 201, answer.text
        return int(answer.headers["X-Log-Position"])

    def roster(self, url: str, position: int) -> dict[str, Any]:
        answer = httpx.get(
            f"{url}/api/campaigns/{self.campaign}/contestants",
            params={"min_position": position},
            headers=ADMIN_HEADERS,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return {"total": answer.json()["total"], "lag": int(answer.headers["X-View-Lag"])}


def test_two_apis_two_schedulers_and_a_worker_cooperate(pg_dsn: str, schema: str, tmp_path: Path) -> None:
    settings = load_settings(database_url=pg_dsn, database_schema=schema, **pg_key_fields())
    env = store_env(pg_dsn, schema)
    service = build_service(settings)  # the store exists before the processes race for it
    processes: dict[str, Process] = {}
    try:
        apis = [Server(f"api-{n}", env, tmp_path) for n in (1, 2)]
        processes |= {p.name: p for p in apis}
        for n in (1, 2):
            processes[f"scheduler-{n}"] = Process(
                f"scheduler-{n}", ["scheduler", "--poll", "0.5"], env, tmp_path
            )
        processes["worker"] = Process("worker", ["project"], env, tmp_path)
        for api in apis:
            api.wait_ready()
        by_me = {p.me: p for p in processes.values()}
        probe = {role: lock_for(settings, "drill-probe", role) for role in (PROJECTIONS, SCHEDULER)}

        def holder(role: str) -> Process | None:
            found = probe[role].holder()
            return by_me.get(found) if found else None

        assert wait_until(lambda: holder(PROJECTIONS) is not None and holder(SCHEDULER) is not None, 20)
        for role in (PROJECTIONS, SCHEDULER):
            active = [p for p in processes.values() if f"{role} {p.me}: active" in p.text()]
            assert len(active) == 1, (role, [p.name for p in active])

        opens, closes = soon(6), soon(16)
        phased = service.launch_campaign(
            "topology phases",
            DecisionContext(actor=ADMIN, at=datetime.now(UTC)),
            timeline=timeline(registration=(opens, closes)),
        )

        # A write through one API is read through the other.
        with httpx.Client(base_url=apis[0].url, headers=ADMIN_HEADERS, timeout=10) as admin:
            clerk = Clerk(admin)
        for n in range(10):
            position = clerk.nominate(apis[n % 2].url)
        assert clerk.roster(apis[1].url, position) == {"total": 10, "lag": 0}

        # The active projection runner dies; another process takes over.
        views_holder = holder(PROJECTIONS)
        assert views_holder is not None
        views_holder.kill()
        killed_at = time.monotonic()
        survivors = [a for a in apis if a is not views_holder]
        for n in range(10):
            position = clerk.nominate(survivors[n % len(survivors)].url)
        assert wait_until(lambda: clerk.roster(survivors[-1].url, position)["lag"] == 0, 20)
        takeover = time.monotonic() - killed_at
        assert clerk.roster(survivors[-1].url, position)["total"] == 20
        new_views_holder = holder(PROJECTIONS)
        assert new_views_holder not in (None, views_holder)

        # The active scheduler dies after the opening is recorded; the closing is recorded once.
        def edges() -> list[tuple[PhaseCode, str]]:
            return [(e.code, e.side) for e in recorded_edges(phased, service.events.get(phased))]

        assert wait_until(lambda: len(edges()) >= 1, 30), edges()
        scheduler_holder = holder(SCHEDULER)
        assert scheduler_holder is not None
        if scheduler_holder.popen.poll() is None:
            scheduler_holder.kill()
        assert wait_until(lambda: len(edges()) >= 2, 40), edges()
        time.sleep(1.5)  # a second recording would come from a poll of another instance
        assert edges() == [(PhaseCode.REGISTRATION, "opens"), (PhaseCode.REGISTRATION, "closes")]
        taker = new_views_holder.name if new_views_holder else "-"
        print(
            f"\ntopology drill: projections taken over by {taker} "
            f"and fresh again {takeover:.2f} s after kill -9 of {views_holder.name}; "
            f"scheduler {scheduler_holder.name} killed, boundaries recorded once each"
        )
    finally:
        for process in processes.values():
            process.stop()
        for role_probe in locals().get("probe", {}).values():
            role_probe.release()

    _views_equal_a_rebuild(settings, service, UUID(clerk.campaign))
    service.close()


def _views_equal_a_rebuild(settings: Any, service: Any, campaign: UUID) -> None:
    views = open_views(settings)
    try:
        for view in views.all:
            view.view.wait(service.name, service.last_notification_id(), timeout=30)
        assert views.roster.query(campaign).total == 20
        survived = {name: view.dump() for name, view in views.by_name.items()}
    finally:
        views.close()
    for name in VIEW_CLASSES:
        rebuild(service, settings, name)
    rebuilt = open_views(settings)
    try:
        assert {name: view.dump() for name, view in rebuilt.by_name.items()} == survived
    finally:
        rebuilt.close()
