"""With a cipher key the views keep personal text encrypted; a changed table layout is rebuilt."""

from __future__ import annotations

import logging
from contextlib import closing

import pytest
from eventsourcing.cipher import AESCipher

from application.bootstrap import build_service
from application.settings import Settings
from domain.values import Channel
from projections import open_views
from projections.audit import AuditFilter
from projections.base import LAYOUTS
from projections.runner import ProjectionRunner
from projections.store import views_path
from tests.builders import ADMIN, city_staff, make_person
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch
from tests.integration.test_encryption import stored_rows
from tests.projections.helpers import scripted_campaign

REASON, EVIDENCE = "材料齐全,已电话核实", "武汉市退役军人事务局推荐表第 3 页"


def _views_rows(settings: Settings) -> bytes:
    """Every row of every view table, raw."""
    if not settings.is_postgres:
        settings = settings.model_copy(update={"database_url": f"sqlite:///{views_path(settings)}"})
    tables = stored_rows(settings)
    assert any(name.startswith("view_roster") for name in tables), tables.keys()
    return b"\n".join(row for name, rows in tables.items() if name.startswith("view_") for row in rows)


def test_views_keep_names_accounts_and_reasons_encrypted_when_a_key_is_set(new_store: StoreFactory) -> None:
    sealed = new_store(cipher_key=AESCipher.create_key(32))
    people = [make_person(seq) for seq in (1, 2, 3)]
    with closing(build_service(sealed)) as service:
        campaign = launch(service)
        ids = [
            service.nominate(campaign, p, Channel.RECOMMENDED, actor=city_staff(p.city), at=RECOMMENDING).id
            for p in people
        ]
        service.verify(ids[0], actor=ADMIN, at=REVIEWING, reason=REASON, evidence=EVIDENCE)
        views = open_views(sealed)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            raw = _views_rows(sealed)
            for secret in [p.name for p in people] + [p.account.handle for p in people] + [REASON, EVIDENCE]:
                assert secret.encode() not in raw, secret
            for p in people:
                assert p.id_number.value.encode() not in raw
                assert p.mobile.value.encode() not in raw

            by_name = sorted(p.name for p in people)
            assert [r.name for r in views.roster.query(campaign).rows] == by_name
            assert [r.name for r in views.roster.query(campaign, descending=True).rows] == by_name[::-1]
            pages = [views.roster.query(campaign, page=n, page_size=2) for n in (1, 2)]
            assert [r.name for page in pages for r in page.rows] == by_name
            assert {page.total for page in pages} == {3}
            # Searching a sealed roster matches a whole name or a whole account, in any case.
            first = people[0]
            assert [r.contestant_id for r in views.roster.query(campaign, search=first.name).rows] == [ids[0]]
            found = views.roster.query(campaign, search=f" {first.account.handle.upper()} ").rows
            assert [r.account for r in found] == [first.account.handle]
            assert views.roster.query(campaign, search=first.name[:1]).total == 0

            [verified] = views.audit.entries(AuditFilter(event_types=["Verified"]))
            assert (verified.reason, verified.evidence) == (REASON, EVIDENCE)
        finally:
            views.close()


def test_teams_names_are_sealed_too(new_store: StoreFactory) -> None:
    sealed = new_store(cipher_key=AESCipher.create_key(32))
    with closing(build_service(sealed)) as service:
        script = scripted_campaign(service)
        views = open_views(sealed)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            [wuhan] = views.teams.teams(script.campaign_id)
            assert wuhan.leader_name == "王科长"
            assert {s.name for s in wuhan.streamers} == {make_person(n).name for n in (1, 2, 4, 5)}
            raw = _views_rows(sealed)
            assert "王科长".encode() not in raw
            assert make_person(1).name.encode() not in raw
        finally:
            views.close()


def test_tables_of_another_layout_are_built_again_from_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            before = views.roster.dump()
            with views.roster.view.transaction() as tx:  # as an older release would have left it
                tx.execute(f"UPDATE {views.db.table(LAYOUTS)} SET layout = 'older' WHERE view = 'roster'")
        finally:
            views.close()

        with caplog.at_level(logging.WARNING, logger="zhanyou.projections"):
            views = open_views(settings)
        try:
            assert "view roster: its tables changed layout" in caplog.text
            assert views.roster.position(service.name) == 0
            assert views.roster.query(script.campaign_id).total == 0
            assert views.funnel.position(service.name) > 0  # the other views are kept
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            assert views.roster.dump() == before
        finally:
            views.close()
