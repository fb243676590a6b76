"""New view tables get their indexes once they have caught up with the log; tables opened again
get any index they lack."""

from __future__ import annotations

from application.service import CampaignService
from application.settings import Settings
from projections import open_views
from projections.base import ViewProjection
from projections.runner import ProjectionRunner
from tests.projections.helpers import head, scripted_campaign


def _indexes(view: ViewProjection) -> set[str]:
    """The named indexes on the view's tables (not those backing a primary key)."""
    found: set[str] = set()
    with view.view.read() as tx:
        for physical in (view.physical(logical) for logical in view.tables):
            if tx.postgres:
                rows = tx.fetchall(
                    "SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = ?",
                    (view.db.schema, physical),
                )
            else:
                rows = tx.fetchall(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (physical,)
                )
            found |= {r["name"] for r in rows if not r["name"].startswith("sqlite_autoindex")}
    return {name for name in found if not name.endswith("_pkey")}


def test_new_tables_are_indexed_once_they_have_caught_up(
    service: CampaignService, settings: Settings
) -> None:
    scripted_campaign(service)
    views = open_views(settings)
    try:
        assert [v.name for v in views.all if v.indexed or _indexes(v)] == []
        runner = ProjectionRunner(service, views.all, batch_size=7)
        runner.run_once()  # one batch each: the roster and the audit trail are still behind
        for behind in (views.roster, views.audit):
            assert not behind.indexed
            assert not _indexes(behind)
        runner.catch_up(timeout=60)
        assert set(runner.positions().values()) == {head(service)}
        for view in views.all:
            assert view.indexed
            assert _indexes(view) == set(view.indexes), view.name
    finally:
        views.close()


def test_tables_opened_again_get_the_indexes_they_lack(settings: Settings) -> None:
    made = open_views(settings)  # a new store: tables without indexes
    made.close()
    views = open_views(settings)
    try:
        for view in views.all:
            assert view.indexed
            assert _indexes(view) == set(view.indexes), view.name
    finally:
        views.close()
