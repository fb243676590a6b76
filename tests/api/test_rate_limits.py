"""The registration limit: one count per client address for all processes; only trusted proxies believed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eventsourcing.cipher import AESCipher
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from node import Roles
from tests.api.helpers import BOOTSTRAP, Clock, form
from tests.e2e.test_serve import _free_port

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))


def _path() -> str:
    return f"/api/campaigns/{uuid.uuid4()}/registrations"  # the limit is counted before anything else


def _statuses(client: TestClient, forwarded: list[str]) -> list[int]:
    return [
        client.post(_path(), json=form(seq, group="veteran"), headers={"X-Forwarded-For": xff}).status_code
        for seq, xff in enumerate(forwarded, start=1)
    ]


def test_the_limit_is_shared_by_every_process(settings: Settings, clock: Clock) -> None:
    limited = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=2)
    one = create_app(settings, limited, clock=clock, roles=Roles(scheduler=False, projections=False))
    two = create_app(settings, limited, clock=clock, roles=Roles(scheduler=False, projections=False))
    with TestClient(one) as first, TestClient(two) as second:
        answers = [
            c.post(_path(), json=form(1, group="veteran")).status_code for c in (first, second, second)
        ]
    assert answers == [404, 404, 429]


def test_a_trusted_proxy_is_believed_and_only_its_own_hop(settings: Settings, clock: Clock) -> None:
    limited = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=2, trusted_proxies="10.0.0.0/8")
    app = create_app(settings, limited, clock=clock, roles=Roles(scheduler=False, projections=False))
    with TestClient(app, client=("10.1.2.3", 40000)) as behind_proxy:
        assert _statuses(behind_proxy, ["203.0.113.7", "203.0.113.7", "203.0.113.8"]) == [404, 404, 404]
        # what a client writes before the proxy's own entry is not believed
        assert _statuses(behind_proxy, ["198.51.100.1, 203.0.113.7", "198.51.100.2, 203.0.113.8"]) == [
            429,
            404,
        ]
    with TestClient(app, client=("192.0.2.50", 40000)) as direct:  # not a trusted proxy
        assert _statuses(direct, ["203.0.113.20", "203.0.113.21", "203.0.113.22"]) == [404, 404, 429]


def test_trusted_proxies_must_be_addresses() -> None:
    from application.settings import SettingsError

    with pytest.raises(SettingsError, match=r"^ZHANYOU_TRUSTED_PROXIES: .*'\*' is not an IP address"):
        ApiSettings.load(trusted_proxies="*")


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """``zhanyou serve`` on the store, 2 registrations a minute, no proxy trusted (the default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env |= {"ZHANYOU_DATABASE_URL": settings.database_url, "ZHANYOU_REGISTRATION_RATE": "2"}
    if settings.is_postgres:
        env |= {
            "ZHANYOU_DATABASE_SCHEMA": settings.database_schema or "public",
            "ZHANYOU_CIPHER_KEY": AESCipher.create_key(32),
            "ZHANYOU_ID_SECRET": "an id secret for this test, long enough",
        }
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [ZHANYOU, "serve", "--port", str(port), "--no-scheduler", "--no-projections"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as probe:
            for _ in range(300):  # bounded: 30 s
                try:
                    if probe.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)  # the process is starting; there is no position to wait on yet
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_rotating_forwarded_for_does_not_get_past_the_limit(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        statuses = [
            client.post(
                _path(), json=form(seq, group="veteran"), headers={"X-Forwarded-For": f"198.51.100.{seq}"}
            ).status_code
            for seq in range(1, 5)
        ]
    assert statuses == [404, 404, 429, 429]
