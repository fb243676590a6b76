"""A view of a changed layout is built beside the live tables; these stay untouched until the switch."""

from __future__ import annotations

import logging
import time
from contextlib import closing
from typing import Any

import pytest

from application.bootstrap import build_service
from application.settings import Settings
from projections import Views, open_views
from projections.base import LAYOUTS, ViewBuilding
from projections.runner import ProjectionRunner
from tests.projections.helpers import scripted_campaign

NAME_INDEX = "ix_view_roster_name_index"


def _raw(views: Views, statement: str) -> list[dict[str, Any]]:
    with views.db.transaction() as tx:
        return tx.fetchall(statement)


def _as_an_older_release_left_it(views: Views) -> None:
    """The roster's tables without the ``name_index`` column, recorded under another layout."""
    with views.db.transaction() as tx:
        tx.execute(f"DROP INDEX {views.db.table(NAME_INDEX)}")
        tx.execute(f"ALTER TABLE {views.roster.t['roster']} DROP COLUMN name_index")
        tx.execute(f"UPDATE {views.db.table(LAYOUTS)} SET layout = 'older' WHERE view = 'roster'")


def _tables(views: Views) -> set[str]:
    if views.db.postgres:
        rows = _raw(views, f"SELECT tablename AS name FROM pg_tables WHERE schemaname = '{views.db.schema}'")
    else:
        rows = _raw(views, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(r["name"]) for r in rows}


def test_the_old_tables_stay_as_they_are_until_the_new_generation_is_switched_in(settings: Settings) -> None:
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            before = views.roster.dump()
            _as_an_older_release_left_it(views)
            old_rows = _raw(views, f"SELECT * FROM {views.roster.t['roster']} ORDER BY contestant_id")
        finally:
            views.close()
        assert len(old_rows) == 9
        assert "name_index" not in old_rows[0]

        builder, other = open_views(settings), open_views(settings)  # two processes of the new release
        try:
            assert builder.roster.building
            assert other.roster.building
            assert not builder.quotas.building  # only the changed view is built again
            live = builder.db.table("view_roster")
            with pytest.raises(ViewBuilding, match="view roster is being built"):
                builder.roster.query(script.campaign_id)
            with pytest.raises(ViewBuilding):
                other.roster.query(script.campaign_id)

            runner = ProjectionRunner(service, builder.all, batch_size=5)
            runner.run_once()  # part of the way
            assert (
                0 < builder.roster.position(service.name) < int(service.recorder.max_notification_id() or 0)
            )
            assert builder.roster.building
            # The live tables are the older release's, rows and all, while the new ones fill up.
            assert _raw(builder, f"SELECT * FROM {live} ORDER BY contestant_id") == old_rows
            generation = f"view_roster{builder.roster.generation_suffix()}"
            assert generation in _tables(builder)

            runner.catch_up(timeout=30)
            assert not builder.roster.building
            assert builder.roster.dump() == before  # the new layout, every row
            assert len(_raw(builder, f"SELECT name_index FROM {live}")) == 9  # the new column
            assert generation not in _tables(builder)
            [recorded] = _raw(
                builder, f"SELECT layout FROM {builder.db.table(LAYOUTS)} WHERE view = 'roster'"
            )
            assert recorded["layout"] == builder.roster.layout()
            assert builder.roster.query(script.campaign_id).total == 9

            # The other process follows the switch on its next read: the live tables, this layout.
            assert other.roster.query(script.campaign_id).total == 9
            assert not other.roster.building
            assert other.roster.position(service.name) == builder.roster.position(service.name)
        finally:
            builder.close()
            other.close()


def test_two_workers_building_at_once_switch_in_once_and_count_nothing_twice(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            before = {name: view.dump() for name, view in views.by_name.items()}
            _as_an_older_release_left_it(views)
        finally:
            views.close()

        first, second = open_views(settings), open_views(settings)
        try:
            head = int(service.recorder.max_notification_id() or 0)
            runners = [
                ProjectionRunner(service, views.all, batch_size=7, poll_seconds=0.02, retry_seconds=0.05)
                for views in (first, second)
            ]
            with caplog.at_level(logging.WARNING, logger="zhanyou.projections"), runners[0], runners[1]:
                deadline = time.monotonic() + 30
                while first.roster.building or second.roster.building:
                    assert time.monotonic() < deadline, "the roster was never switched in"
                    time.sleep(0.05)
                for runner in runners:
                    runner.wait(head, timeout=30)
            assert caplog.text.count("view roster: this layout's tables were switched in") == 1
            for views in (first, second):
                assert {name: view.dump() for name, view in views.by_name.items()} == before
                assert views.roster.query(script.campaign_id).total == 9
        finally:
            first.close()
            second.close()
