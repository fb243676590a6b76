"""GET /api/campaigns/{cid}/schedule, and the scheduler that `serve` runs in-process on SQLite."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from ledger.signers import instance_name
from node import Roles
from tests.api.helpers import ADMIN_HEADERS, BOOTSTRAP, RECOMMENDING, Api


def test_the_schedule_lists_every_boundary_with_its_state(api: Api) -> None:
    api.clock.now = RECOMMENDING
    opened = api.client.post(
        f"/api/campaigns/{api.campaign_id}/phases/self_registration/open",
        json={"reason": "自主报名通道开通"},
        headers=ADMIN_HEADERS,
    )
    assert opened.status_code == 200, opened.text

    answer = api.client.get(f"/api/campaigns/{api.campaign_id}/schedule", headers=api.as_("leader"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    states = {(b["code"], b["side"]): b["state"] for b in body["boundaries"]}
    assert states[("self_registration", "opens")] == "overridden"
    assert states[("publicity", "opens")] == "pending"  # no scheduler has run in this test
    assert len(body["boundaries"]) == 18
    assert body["active_instance"] is None


def test_an_unknown_campaign_has_no_schedule(api: Api) -> None:
    answer = api.client.get(
        "/api/campaigns/00000000-0000-0000-0000-000000000000/schedule", headers=ADMIN_HEADERS
    )
    assert (answer.status_code, answer.json()["rule"]) == (404, "not_found")


def wait_for(check: Any, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail("the condition did not hold in time")


def test_the_in_process_scheduler_records_boundaries_and_names_itself(tmp_path: Any) -> None:
    settings = Settings.load(database_url=f"sqlite:///{tmp_path}/events.db", cipher_key=None, id_secret=None)
    now = datetime.now(UTC)
    opens, closes = now + timedelta(seconds=1), now + timedelta(days=30)
    timeline = {code: {"opens": opens.isoformat(), "closes": closes.isoformat()} for code in ("publicity",)}
    app = create_app(
        settings, ApiSettings.load(bootstrap_token=BOOTSTRAP), roles=Roles(scheduler=True, projections=True)
    )
    with TestClient(app) as client:
        launched = client.post(
            "/api/campaigns",
            json={
                "name": "live",
                "template": "hubei-2021",
                "start": now.date().isoformat(),
                "timeline": timeline,
            },
            headers=ADMIN_HEADERS,
        )
        assert launched.status_code == 201, launched.text
        url = f"/api/campaigns/{launched.json()['id']}/schedule"

        def publicity_opened() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(url, headers=ADMIN_HEADERS).json()
            done = [
                b
                for b in body["boundaries"]
                if (b["code"], b["side"], b["state"]) == ("publicity", "opens", "done")
            ]
            return body if done else None

        body = wait_for(publicity_opened)
        assert body["active_instance"] is not None
        assert body["active_instance"].endswith(f":{os.getpid()}")
        judge = client.post(
            "/api/users", json={"username": "judge-1", "role": "judge"}, headers=ADMIN_HEADERS
        )
        seen = client.get(url, headers={"Authorization": f"Bearer {judge.json()['token']}"}).json()
        assert seen["active_instance"] == instance_name(body["active_instance"])  # no host, no pid
        assert str(os.getpid()) not in seen["active_instance"]
