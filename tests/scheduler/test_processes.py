"""Two real `zhanyou scheduler` processes on PostgreSQL: one active, the other takes over."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.bootstrap import build_service
from domain.decision import DecisionContext
from domain.timeline import PhaseCode
from ledger.operations import public_key, stored_checkpoints
from scheduler.plan import recorded_edges
from tests.builders import ADMIN
from tests.conftest import fresh_schema, load_settings
from tests.scheduler.helpers import soon, timeline, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    with fresh_schema(pg_dsn) as name:
        yield name


class Process:
    def __init__(self, name: str, env: dict[str, str], tmp_path: Path) -> None:
        self.log = tmp_path / f"{name}.log"
        with self.log.open("w") as out:
            self.popen = subprocess.Popen(
                [ZHANYOU, "scheduler", "--poll", "0.5"], stdout=out, stderr=subprocess.STDOUT, env=env
            )

    def text(self) -> str:
        return self.log.read_text()

    def recorded(self, code: str, side: str) -> int:
        return sum(f"code={code} side={side}" in line for line in self.text().splitlines())

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def test_one_process_is_active_and_the_standby_takes_over(pg_dsn: str, schema: str, tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    settings = load_settings(database_url=pg_dsn, database_schema=schema, signing_key=key)
    service = build_service(settings)
    opens, closes = soon(8), soon(14)
    cid = service.launch_campaign(
        "two schedulers",
        DecisionContext(actor=ADMIN, at=datetime.now(UTC)),
        timeline=timeline(registration=(opens, closes)),
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")},
        "ZHANYOU_DATABASE_URL": pg_dsn,
        "ZHANYOU_DATABASE_SCHEMA": schema,
        "ZHANYOU_SIGNING_KEY": key,
    }
    a = Process("a", env, tmp_path)
    b: Process | None = None
    try:
        assert wait_until(lambda: ": active" in a.text(), timeout=10), a.text()
        b = Process("b", env, tmp_path)
        standby = f"standby; active instance is {_me(a)}"
        assert wait_until(lambda: b is not None and standby in b.text(), timeout=10), b.text()
        assert datetime.now(UTC) < opens, "the processes took too long to start"

        assert wait_until(lambda: a.recorded("registration", "opens") == 1, timeout=20), a.text()
        assert b.recorded("registration", "opens") == 0
        a.popen.kill()  # kill -9: no clean-up, the lock goes with the connection
        a.popen.wait(10)

        assert wait_until(lambda: b is not None and b.recorded("registration", "closes") == 1, timeout=25), (
            b.text()
        )
        assert ": active" in b.text()
    finally:
        a.stop()
        if b is not None:
            b.stop()
    edges = [(e.code, e.side, e.by) for e in recorded_edges(cid, service.events.get(cid))]
    registration = PhaseCode.REGISTRATION
    assert edges == [(registration, "opens", "scheduler"), (registration, "closes", "scheduler")]
    service.close()
    signed = [
        c.checkpoint.reason for c in stored_checkpoints(settings) if c.signed_by(public_key(settings) or "")
    ]
    assert signed == [f"campaign {cid}: registration opens", f"campaign {cid}: registration closes"]


def _me(process: Process) -> str:
    return f"{os.uname().nodename}:{process.popen.pid}"
