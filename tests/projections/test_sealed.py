"""With a cipher key the views keep personal text encrypted; a changed table layout is rebuilt."""

from __future__ import annotations

import logging
import multiprocessing
from contextlib import closing
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher

from application import decisions
from application.bootstrap import build_service
from application.settings import Settings
from domain.decision import DecisionContext
from domain.timeline import PhaseCode
from domain.values import Channel, Person
from projections import open_views
from projections.audit import AuditFilter
from projections.base import LAYOUTS
from projections.runner import ProjectionRunner
from projections.store import views_path
from tests.builders import ADMIN, city_staff, make_person
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch, recommend
from tests.integration.test_encryption import stored_rows
from tests.projections.helpers import TRAINING, scripted_campaign

REASON, EVIDENCE = "材料齐全,已电话核实", "武汉市退役军人事务局推荐表第 3 页"
TRAINING_ACCOUNT, PHASE_REASON = "hb-train-0042", "省厅通知提前开赛"


def _views_rows(settings: Settings) -> bytes:
    """Every row of every view table, raw."""
    if not settings.is_postgres:
        settings = settings.model_copy(update={"database_url": f"sqlite:///{views_path(settings)}"})
    tables = stored_rows(settings)
    assert any(name.startswith("view_roster") for name in tables), tables.keys()
    return b"\n".join(row for name, rows in tables.items() if name.startswith("view_") for row in rows)


def _fill(settings: Settings, people: list[Person]) -> tuple[UUID, list[UUID]]:
    """Nominate ``people``; verify the first with a reason and evidence, give it a training account."""
    with closing(build_service(settings)) as service:
        campaign = launch(service)
        ids = [
            service.nominate(
                campaign, p, Channel.RECOMMENDED, DecisionContext(actor=city_staff(p.city), at=RECOMMENDING)
            ).id
            for p in people
        ]
        service.decide(
            ids[0],
            decisions.VERIFY,
            DecisionContext(actor=ADMIN, at=REVIEWING, reason=REASON, evidence=EVIDENCE),
        )
        service.decide(
            ids[0],
            decisions.assign_training_account(TRAINING_ACCOUNT),
            DecisionContext(actor=ADMIN, at=TRAINING),
        )
        service.open_phase(
            campaign, PhaseCode.CONTEST, DecisionContext(actor=ADMIN, at=TRAINING, reason=PHASE_REASON)
        )
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
        finally:
            views.close()
    return campaign, ids


def _secrets(people: list[Person]) -> list[str]:
    texts = [REASON, EVIDENCE, TRAINING_ACCOUNT, PHASE_REASON]
    return [p.name for p in people] + [p.account.handle for p in people] + texts


def test_views_keep_personal_text_encrypted_when_a_key_is_set(new_store: StoreFactory) -> None:
    people = [make_person(seq) for seq in (1, 2, 3)]
    plain, sealed = new_store(), new_store(cipher_key=AESCipher.create_key(32))
    _fill(plain, people)
    raw = _views_rows(plain)
    assert [s for s in _secrets(people) if s.encode() not in raw] == []  # the check can see them

    campaign, ids = _fill(sealed, people)
    raw = _views_rows(sealed)
    assert [s for s in _secrets(people) if s.encode() in raw] == []
    for p in people:
        assert p.id_number.value.encode() not in raw
        assert p.mobile.value.encode() not in raw

    views = open_views(sealed)
    try:
        by_name = sorted(p.name for p in people)
        assert [r.name for r in views.roster.query(campaign).rows] == by_name
        assert [r.name for r in views.roster.query(campaign, descending=True).rows] == by_name[::-1]
        pages = [views.roster.query(campaign, page=n, page_size=2) for n in (1, 2)]
        assert [r.name for page in pages for r in page.rows] == by_name
        assert {page.total for page in pages} == {3}
        assert views.roster.query(campaign, status="nominated").total == 2
        # Searching a sealed roster matches a whole name or a whole account, in any case.
        first = people[0]
        assert [r.contestant_id for r in views.roster.query(campaign, search=first.name).rows] == [ids[0]]
        [found] = views.roster.query(campaign, search=f" {first.account.handle.upper()} ").rows
        assert (found.account, found.training_account) == (first.account.handle, TRAINING_ACCOUNT)
        assert views.roster.query(campaign, search=first.name[:1]).total == 0

        [verified] = views.audit.entries(AuditFilter(event_types=["Verified"]))
        assert (verified.reason, verified.evidence) == (REASON, EVIDENCE)
        assert [e.reason for e in views.phases.log(campaign, code="contest")] == [PHASE_REASON]
    finally:
        views.close()


def test_text_that_looks_sealed_is_read_as_it_is_without_a_key(settings: Settings) -> None:
    with closing(build_service(settings)) as service:
        campaign = launch(service)
        first = recommend(service, campaign, 1)
        service.decide(
            first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING, reason="sealed: 原件在档案袋")
        )
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            [entry] = views.audit.entries(AuditFilter(event_types=["Verified"]))
            assert entry.reason == "sealed: 原件在档案袋"
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


def test_tables_left_by_an_older_release_are_built_again_from_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            before = {name: view.dump() for name, view in views.by_name.items()}
            # As the release before layouts were recorded left them: no layouts, no name_index.
            with views.db.transaction() as tx:
                tx.execute(f"DROP TABLE {views.db.table(LAYOUTS)}")
                tx.execute(f"DROP INDEX {views.db.table('ix_view_roster_name_index')}")
                tx.execute(f"ALTER TABLE {views.roster.t['roster']} DROP COLUMN name_index")
        finally:
            views.close()

        views = open_views(settings)
        try:
            assert all(view.position(service.name) == 0 for view in views.all)
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            assert views.roster.query(script.campaign_id).total == 9
            with views.db.transaction() as tx:  # then one view's layout changes again
                tx.execute(f"UPDATE {views.db.table(LAYOUTS)} SET layout = 'older' WHERE view = 'roster'")
        finally:
            views.close()
        for _ in range(2):  # opened twice: the tables made the second time are sound
            with caplog.at_level(logging.WARNING, logger="zhanyou.projections"):
                views = open_views(settings)
            try:
                ProjectionRunner(service, views.all).catch_up(timeout=30)
                assert {name: view.dump() for name, view in views.by_name.items()} == before
            finally:
                views.close()
        assert caplog.text.count("view roster: its tables changed layout") == 1


def _open_and_close(settings: Settings) -> None:
    open_views(settings).close()


def test_processes_starting_together_agree_on_the_layout(settings: Settings) -> None:
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
        views = open_views(settings)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            with views.db.transaction() as tx:
                tx.execute(f"UPDATE {views.db.table(LAYOUTS)} SET layout = 'older'")
        finally:
            views.close()
        spawn = multiprocessing.get_context("spawn")
        processes = [spawn.Process(target=_open_and_close, args=(settings,)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]
        views = open_views(settings)
        try:
            assert all(view.position(service.name) == 0 for view in views.all)  # dropped once, not crashed
            ProjectionRunner(service, views.all).catch_up(timeout=30)
            assert views.roster.query(script.campaign_id).total == 9
        finally:
            views.close()
