"""The demo keeps to a store of its own, refuses a served one, and completes a half-run campaign."""

from __future__ import annotations

import io
import subprocess
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from rich.console import Console

from application.bootstrap import build_service
from application.service import CampaignService
from cli.demo import Demo
from domain.lifecycle import Status
from scheduler.leader import SCHEDULER, lock_for
from tests.conftest import load_settings
from tests.drills.processes import ZHANYOU, store_env

PEOPLE = 20


def _statuses(service: CampaignService, demo: Demo) -> Counter[Status]:
    return Counter(service.get_contestant(c).status for c in demo.ids)


def test_the_demo_runs_in_a_store_of_its_own(tmp_path: Path) -> None:
    env = store_env(f"sqlite:///{tmp_path / 'events.db'}")
    command = [ZHANYOU, "demo", "--contestants", str(PEOPLE)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo.db").exists()
    assert "demo.db" in done.stdout
    assert not (tmp_path / "events.db").exists()  # the configured store was not touched


def test_the_demo_refuses_a_store_a_service_is_running_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    build_service(load_settings(database_url=url)).close()
    served = lock_for(load_settings(database_url=url), "served-host:4242", SCHEDULER)
    assert served.try_acquire()
    try:
        command = [ZHANYOU, "demo", "--configured-store"]
        done = subprocess.run(
            command, env=store_env(url), capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        served.release()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "served-host:4242" in lines[0]
    assert "--configured-store" in lines[0]


def test_a_half_run_demo_is_completed_by_the_next_run(tmp_path: Path) -> None:
    quiet = Console(file=io.StringIO())
    whole = load_settings(database_url=f"sqlite:///{tmp_path / 'whole.db'}")
    with closing(build_service(whole)) as service:
        fresh = Demo(service, "demo", PEOPLE, 7, quiet)
        assert fresh.run() == "fresh"
        expected = _statuses(service, fresh)

    halted = load_settings(database_url=f"sqlite:///{tmp_path / 'halted.db'}")
    with closing(build_service(halted)) as service:
        first = Halting(service, "demo", PEOPLE, 7, quiet)
        with pytest.raises(KeyboardInterrupt):
            first.run()
        assert not first.finished()

        second = Demo(service, "demo", PEOPLE, 7, quiet)
        assert second.run() == "resumed"
        assert second.finished()
        assert _statuses(service, second) == expected
        assert Demo(service, "demo", PEOPLE, 7, quiet).run() == "done"


class Halting(Demo):
    """A run stopped half-way: the process dies after training started."""

    def compete(self) -> None:
        raise KeyboardInterrupt
