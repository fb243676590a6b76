"""A view that meets an event it cannot process stops there, says why, and resumes once fixed."""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.lifecycle import Status
from projections import open_views
from projections.roster import RosterView
from projections.runner import ProjectionRunner, ProjectionStalled
from projections.store import Tx
from tests.builders import ADMIN
from tests.integration.helpers import REVIEWING, launch, recommend
from tests.projections.helpers import head, stored_verification


class BuggyRoster(RosterView):
    """The roster with a bug on verification, as a deployed version might have had."""

    name = "roster"
    broken = True

    def _update(
        self, tx: Tx, e: Contestant.Event, status: Status, extra: dict[str, Any] | None = None
    ) -> None:
        if self.broken and isinstance(e, Contestant.Verified):
            raise ValueError("no column for this status yet")
        super()._update(tx, e, status, extra)


def test_a_view_stops_at_the_event_it_cannot_process_and_resumes_there(
    service: CampaignService, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    campaign = launch(service)
    first, second = recommend(service, campaign, 1), recommend(service, campaign, 2)
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    bad = head(service)
    service.decide(second, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    recommend(service, campaign, 3)

    views = open_views(settings)
    buggy = BuggyRoster(views.db)
    runner = ProjectionRunner(service, [buggy, views.quotas], poll_seconds=0.05, retry_seconds=0.1)
    try:
        with caplog.at_level(logging.ERROR, logger="zhanyou.projections"), runner:
            with pytest.raises(ProjectionStalled) as stalled:
                runner.wait(head(service), timeout=30, views=["roster"])
            assert stalled.value.notification_id == bad
            assert stalled.value.topic.endswith("Contestant.Verified")
            assert "ValueError: no column for this status yet" in stalled.value.error
            assert f"view roster stopped at notification {bad}" in caplog.text
            assert runner.positions()["roster"] == bad - 1  # everything before it, nothing after
            assert [r.status for r in buggy.query(campaign).rows] == ["nominated", "nominated"]
            runner.wait(head(service), timeout=30, views=["quotas"])  # the other views go on

            buggy.broken = False  # the fix
            runner.wait(head(service), timeout=30)
            assert [r.status for r in buggy.query(campaign).rows] == ["verified", "verified", "nominated"]
            assert next(s for s in runner.status() if s.name == "roster").stalled is None
    finally:
        views.close()


def test_an_event_about_an_unknown_contestant_stops_the_view_there(
    service: CampaignService, settings: Settings
) -> None:
    campaign = launch(service)
    verified = stored_verification(service, campaign)
    # A decision on a contestant the log never nominated (say, a hand-made repair gone wrong).
    stray = StoredEvent(uuid4(), 2, verified.topic, verified.state)
    service.recorder.insert_events([stray])
    bad = head(service)
    recommend(service, campaign, 2)

    views = open_views(settings)
    try:
        with ProjectionRunner(service, views.all, poll_seconds=0.05, retry_seconds=0.1) as runner:
            with pytest.raises(ProjectionStalled) as stalled:  # other views stop there too
                runner.wait(head(service), timeout=30, views=["roster"])
            assert (stalled.value.view, stalled.value.notification_id) == ("roster", bad)
            assert f"contestant {stray.originator_id} has no row" in stalled.value.error
            assert runner.positions()["roster"] == bad - 1
            runner.wait(head(service), timeout=30, views=["phases", "teams"])
            assert [r.status for r in views.roster.query(campaign).rows] == ["verified"]
    finally:
        views.close()
