"""/healthz answers from the event loop; /readyz says why it is unready: writes fail, a view is stalled
or being built."""

from __future__ import annotations

import contextlib
import logging
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from api.readiness import write_probe
from application.service import CampaignService
from application.settings import Settings
from node import Node, Roles
from projections.base import LAYOUTS
from projections.runner import ProjectionStalled
from tests.api.helpers import BOOTSTRAP, Api

VERIFIED_TOPIC = "domain.contestant:Contestant.Verified"


def _node(client: TestClient) -> Node:
    node: Node = client.app.state.node  # type: ignore[attr-defined]
    return node


def test_a_healthy_service_is_live_and_ready(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def _refuse_writes(settings: Settings, service: CampaignService) -> None:
    """Make the readiness row unwritable, as a full disk or a read-only store would."""
    recorder = service.recorder
    write_probe(settings, recorder.events_table_name)  # type: ignore[attr-defined]  # the table exists
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            schema = settings.database_schema
            connection.execute(
                f"CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
            )
            for when in ("INSERT", "UPDATE"):
                connection.execute(
                    f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON {schema}.zhanyou_readiness "
                    f"FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()"
                )
        return
    import sqlite3

    with contextlib.closing(sqlite3.connect(settings.sqlite_path)) as connection:
        for when in ("INSERT", "UPDATE"):
            connection.execute(
                f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON zhanyou_readiness "
                "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
            )
        connection.commit()


def test_a_store_that_cannot_take_a_write_is_not_ready(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    node = _node(api.client)
    _refuse_writes(settings, node.service)
    with caplog.at_level(logging.WARNING, logger="zhanyou.api"):
        answer = api.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["type"].endswith("/not_ready")
    # anyone is told which part is not ready: no address, schema, file or driver words
    assert body["detail"] == "the event store cannot take a write"
    assert "full" in caplog.text or "No space" in caplog.text  # the log says why
    assert settings.describe_store() in caplog.text
    assert api.client.get("/readyz", headers=api.as_("city_staff")).json()["detail"] == body["detail"]
    organiser = api.client.get("/readyz", headers=api.as_("admin")).json()["detail"]
    assert "cannot take a write" in organiser
    assert settings.describe_store() in organiser
    assert "full" in organiser or "No space" in organiser
    assert api.client.get("/healthz").status_code == 200  # alive all the same


def test_a_stalled_view_is_named_by_readyz(api: Api) -> None:
    node = _node(api.client)
    node.service.recorder.insert_events(
        [
            StoredEvent(
                originator_id=uuid4(), originator_version=1, topic=VERIFIED_TOPIC, state=b"\x01not json"
            )
        ]
    )
    runner = node.projection_runner
    assert runner is not None
    with contextlib.suppress(ProjectionStalled):
        runner.wait(node.service.last_notification_id(), timeout=30, views=["roster"])
    answer = api.client.get("/readyz")
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert "view roster is stalled" in detail
    assert "notification" in detail
    assert ":" not in detail  # the stop's error is told to the log and to an organiser only
    assert ":" in api.client.get("/readyz", headers=api.as_("admin")).json()["detail"]


def test_a_view_being_built_in_a_new_layout_is_named_by_readyz_and_its_reads_answer_503(
    api: Api, settings: Settings
) -> None:
    node = _node(api.client)
    with node.views.db.transaction() as tx:  # the live roster as an older release recorded it
        tx.execute(f"UPDATE {node.views.db.table(LAYOUTS)} SET layout = 'older' WHERE view = 'roster'")
    api_settings = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=1000)
    newer = create_app(
        settings, api_settings, clock=api.clock, roles=Roles(scheduler=False, projections=False)
    )
    with TestClient(newer, raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "view roster is being built" in ready.json()["detail"]
        roster = client.get(f"/api/campaigns/{api.campaign_id}/contestants", headers=api.as_("admin"))
        assert roster.status_code == 503
        assert roster.json()["rule"] == "view_building"
        assert "view roster" in roster.json()["detail"]
        quotas = client.get(f"/api/campaigns/{api.campaign_id}/quotas", headers=api.as_("admin"))
        assert quotas.status_code == 200  # the other views are served as they are
