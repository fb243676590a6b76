"""A rebuilt view equals the live one row for row, and the switch-over keeps a running worker exact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from projections import VIEW_CLASSES, open_views
from projections.rebuild import rebuild
from tests.builders import ADMIN
from tests.integration.helpers import REVIEWING, recommend
from tests.projections.helpers import head, running_views, scripted_campaign

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))


def test_a_rebuilt_view_equals_the_live_one_row_for_row(service: CampaignService, settings: Settings) -> None:
    script = scripted_campaign(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        before = {name: view.dump() for name, view in views.by_name.items()}
        assert all(any(rows for rows in tables.values()) for tables in before.values())

        seen: list[tuple[int, int, int]] = []
        for name in VIEW_CLASSES:
            result = rebuild(service, settings, name, batch_size=7, on_progress=lambda *p: seen.append(p))
            assert result.position == head(service)
        assert seen[-1][0] == seen[-1][1] == head(service)

        # The running worker carries on on the new tables: a later decision reaches every view once.
        late = recommend(service, script.campaign_id, 10)
        service.decide(late, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
        runner.wait(head(service), timeout=30)
        assert views.roster.query(script.campaign_id).total == 10
        after = {name: view.dump() for name, view in views.by_name.items()}

    # A second, independent build from zero agrees with what the worker produced.
    for name in VIEW_CLASSES:
        rebuild(service, settings, name)
    fresh = open_views(settings)
    try:
        assert {name: view.dump() for name, view in fresh.by_name.items()} == after
    finally:
        fresh.close()
    assert dict(before.items()) != after  # the late decisions are in


def test_the_rebuild_command_switches_over_with_a_progress_report(
    service: CampaignService, settings: Settings
) -> None:
    script = scripted_campaign(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        live = views.roster.dump()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env["ZHANYOU_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["ZHANYOU_DATABASE_SCHEMA"] = settings.database_schema
    done = subprocess.run(
        [ZHANYOU, "rebuild", "roster"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert f"switched over at notification {head(service)}" in done.stdout
    assert "events/s" in done.stdout
    refused = subprocess.run(
        [ZHANYOU, "rebuild", "nosuch"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert "no view 'nosuch'" in refused.stderr
    reopened = open_views(settings, names=["roster"])
    try:
        assert reopened.roster.dump() == live
        assert reopened.roster.query(script.campaign_id).total == 9
    finally:
        reopened.close()
