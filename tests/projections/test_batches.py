"""Batches: views at one position share one read of the log; buffered writes keep each row's order."""

from __future__ import annotations

import contextlib
from typing import Any
from unittest.mock import patch
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from projections import open_views
from projections.audit import AuditFilter
from projections.roster import RosterView
from projections.runner import ProjectionRunner, ProjectionStalled
from projections.store import Tx, ViewStore
from tests.builders import ADMIN
from tests.integration.helpers import REVIEWING, launch, recommend
from tests.projections.helpers import head, scripted_campaign, stored_verification


def _pipelined(tx: Tx) -> contextlib.AbstractContextManager[None]:
    return tx.pipeline() if tx.postgres else contextlib.nullcontext()


def _update_a_and_a_missing_row(view: ViewStore, table: str) -> None:
    with view.transaction() as tx, _pipelined(tx):
        tx.change_one(f"UPDATE {table} SET v = ? WHERE k = ?", ("x", "a"), "missed a", row="a")
        tx.change_one(f"UPDATE {table} SET v = ? WHERE k = ?", ("x", "z"), "missed z", row="z")
        tx.verify()


def test_writes_to_one_row_keep_their_order_when_regrouped(settings: Settings) -> None:
    views = open_views(settings, names=["phases"])
    table = views.db.table("view_test_batches")
    try:
        with views.phases.view.transaction() as tx:
            tx.execute(f"CREATE TABLE {table} (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        with views.phases.view.transaction() as tx, _pipelined(tx):
            # Each row's writes must land in order; rows interleave. Grouped by statement
            # alone, b's two inserts would collide and a's appends would swap.
            insert = f"INSERT INTO {table} (k, v) VALUES (?, ?)"
            append = f"UPDATE {table} SET v = v || ? WHERE k = ?"
            tx.write(insert, ("a", "a0"), row="a")
            tx.write(insert, ("b", "b0"), row="b")
            tx.change_one(append, ("1", "a"), "a", row="a")
            tx.write(insert, ("c", "c0"), row="c")
            tx.write(f"DELETE FROM {table} WHERE k = ?", ("b",), row="b")
            tx.change_one(append, ("2", "a"), "a", row="a")
            tx.write(insert, ("b", "b1"), row="b")
            tx.change_one(append, ("1", "c"), "c", row="c")
            seen = tx.fetchall(f"SELECT k, v FROM {table} ORDER BY k")  # a read sends the buffer first
            tx.change_one(append, ("3", "a"), "a", row="a")
            tx.verify()
        assert [(r["k"], r["v"]) for r in seen] == [("a", "a012"), ("b", "b1"), ("c", "c01")]
        with views.phases.view.read() as tx:
            rows = tx.fetchall(f"SELECT k, v FROM {table} ORDER BY k")
        assert [(r["k"], r["v"]) for r in rows] == [("a", "a0123"), ("b", "b1"), ("c", "c01")]

        with pytest.raises(LookupError, match="missed"):
            _update_a_and_a_missing_row(views.phases.view, table)
        with views.phases.view.read() as tx:
            rows = tx.fetchall(f"SELECT k, v FROM {table} WHERE k = 'a'")
        assert rows == [{"k": "a", "v": "a0123"}]  # rolled back with the miss
    finally:
        with views.phases.view.transaction() as tx:
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        views.close()


def test_an_event_that_cannot_be_decoded_stops_only_the_views_that_read_it(
    service: CampaignService, settings: Settings
) -> None:
    campaign = launch(service)
    verified = stored_verification(service, campaign)
    service.recorder.insert_events([StoredEvent(uuid4(), 2, verified.topic, b"{not json")])
    bad = head(service)
    recommend(service, campaign, 2)

    views = open_views(settings)
    try:
        with ProjectionRunner(service, views.all, poll_seconds=0.05, retry_seconds=0.1) as runner:
            runner.wait(head(service), timeout=30, views=["teams", "phases"])  # Verified is not theirs
            for name in ("roster", "quotas", "funnel", "audit"):
                with pytest.raises(ProjectionStalled) as stalled:
                    runner.wait(head(service), timeout=30, views=[name])
                assert stalled.value.notification_id == bad
                assert "MapperDeserialisationError" in stalled.value.error
                assert runner.positions()[name] == bad - 1
            assert [r.status for r in views.roster.query(campaign).rows] == ["verified"]
    finally:
        views.close()


def test_views_at_one_position_share_one_read_of_the_log(
    service: CampaignService, settings: Settings
) -> None:
    campaign = launch(service)
    for seq in range(1, 6):
        service.decide(
            recommend(service, campaign, seq), decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING)
        )
    reads: list[int] = []
    select = service.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("start", 0))
        return select(*args, **kwargs)

    views = open_views(settings)
    try:
        runner = ProjectionRunner(service, views.all, batch_size=10)
        with patch.object(service.recorder, "select_notifications", counted):
            runner.catch_up(timeout=30)
        # One read per window of 10 events for all six views together, not one per view (the
        # last read finds fewer than 10: the head).
        topics = sorted({t for view in views.all for t in view.topics})
        events = len(select(start=0, limit=10_000, topics=topics))
        assert events > 20
        assert len(reads) == events // 10 + 1, reads
        assert reads == sorted(set(reads))
        assert set(runner.positions().values()) == {head(service)}
    finally:
        views.close()


def test_small_windows_leave_the_views_as_one_window_does(
    service: CampaignService, settings: Settings
) -> None:
    """Small batches end where one batch does."""
    scripted_campaign(service)
    dumps = []
    for batch_size in (3, 10_000):
        views = open_views(settings)
        try:
            runner = ProjectionRunner(service, views.all, batch_size=batch_size)
            runner.catch_up(timeout=60)
            assert set(runner.positions().values()) == {head(service)}
            dumps.append({view.name: view.dump() for view in views.all})
            for view in views.all:
                view.drop_tables()  # the next run builds them from the start of the log
        finally:
            views.close()
    assert dumps[0] == dumps[1]
    assert dumps[0]["roster"]["roster"]
    assert dumps[0]["audit"]["audit"]


def test_buffered_writes_store_text_unprintable_in_places_as_its_printable_copy(settings: Settings) -> None:
    views = open_views(settings, names=["phases"])
    table = views.db.table("view_test_storable")
    try:
        with views.phases.view.transaction() as tx:
            tx.execute(f"CREATE TABLE {table} (k TEXT PRIMARY KEY, v TEXT, n BIGINT)")
        with views.phases.view.transaction(lazy=True) as tx, tx.pipeline():
            insert = f"INSERT INTO {table} (k, v, n) VALUES (?, ?, ?)"
            tx.write(insert, ("plain", "张三", 1), row="plain")
            tx.write(insert, ("nul", "张\x00三", None), row="nul")
            tx.write(insert, ("bidi", "abc\u202e", 3), row="bidi")
            tx.verify()
        with views.phases.view.read() as tx:
            rows = tx.fetchall(f"SELECT k, v, n FROM {table} ORDER BY k")
        assert [(r["k"], r["v"], r["n"]) for r in rows] == [
            ("bidi", "abc\ufffd", 3),
            ("nul", "张\ufffd三", None),
            ("plain", "张三", 1),
        ]
    finally:
        with views.phases.view.transaction() as tx:
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        views.close()


def test_a_batch_on_sqlite_leaves_its_connection_waiting_for_the_disk_again(settings: Settings) -> None:
    if settings.is_postgres:
        pytest.skip("PostgreSQL sets it for the batch's transaction only")
    views = open_views(settings, names=["phases"])
    try:
        with views.phases.view.read() as tx:
            durable = tx.fetchone("PRAGMA synchronous")
        with views.phases.view.transaction(lazy=True) as tx:
            during = tx.fetchone("PRAGMA synchronous")
        with views.phases.view.read() as tx:
            after = tx.fetchone("PRAGMA synchronous")
        assert during == {"synchronous": 1}  # NORMAL: the commit does not wait for the disk
        assert after == durable
    finally:
        views.close()


class _TwiceNominatedRoster(RosterView):
    """The roster with a bug that writes one contestant's row twice: the database refuses it."""

    name = "roster"
    twice: str | None = None  # the contestant whose row is written twice

    def _nominated(self, tx: Tx, e: Any) -> None:
        super()._nominated(tx, e)
        if self.text.id == self.twice:
            super()._nominated(tx, e)


def test_a_batch_the_database_refuses_stops_that_view_and_keeps_the_others_of_its_transaction(
    service: CampaignService, settings: Settings
) -> None:
    """Views at one position write in one transaction, each in a savepoint: a database error in
    one view's batch is redone event by event there, and the other views' batches stand."""
    campaign = launch(service)
    recommend(service, campaign, 1)
    bad = recommend(service, campaign, 2)
    recommend(service, campaign, 3)
    views = open_views(settings)
    buggy = _TwiceNominatedRoster(views.db)
    buggy.twice = str(bad)
    try:
        runner = ProjectionRunner(service, [buggy, views.quotas, views.audit], retry_seconds=60)
        with pytest.raises(ProjectionStalled) as stalled:
            runner.catch_up(timeout=30)
        assert stalled.value.view == "roster"
        assert stalled.value.notification_id == _nominated_at(service, bad)
        positions = runner.positions()
        assert positions["roster"] == stalled.value.notification_id - 1
        assert positions["quotas"] == positions["audit"] == head(service)
        assert len(buggy.query(campaign).rows) == 1  # the one before it, nothing after
        nominated = views.audit.entries(AuditFilter(campaign_id=campaign, event_types=["Nominated"]))
        assert len(nominated) == 3
    finally:
        views.close()


def _nominated_at(service: CampaignService, contestant_id: Any) -> int:
    notifications = service.recorder.select_notifications(start=1, limit=1000)
    return next(
        n.id
        for n in notifications
        if n.originator_id == contestant_id and n.topic.endswith("Contestant.Nominated")
    )
