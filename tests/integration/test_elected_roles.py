"""Two processes' worth of nodes on one store: one runs the views, the other stands by and takes over."""

from __future__ import annotations

from application.settings import Settings
from domain.decision import DecisionContext
from node import Roles, Tuning, build_node
from tests.builders import ADMIN
from tests.integration.helpers import LAUNCH
from tests.scheduler.helpers import wait_until

FAST = Tuning(election_retry=0.1, projection_poll=0.05)
VIEWS_ONLY = Roles(scheduler=False, projections=True)


def test_one_node_runs_the_views_and_the_standby_takes_over(settings: Settings) -> None:
    first = build_node(settings, VIEWS_ONLY, tuning=FAST).start()
    second = build_node(settings, VIEWS_ONLY, tuning=FAST).start()
    try:
        assert first.election_state()["projections"] is True
        assert second.election_state()["projections"] is False
        assert second.projection_runner is None
        assert first.projections_probe.holder() == first.me  # every node can tell who is active

        first.service.launch_campaign("elected", DecisionContext(actor=ADMIN, at=LAUNCH))
        runner = first.projection_runner
        assert runner is not None
        runner.wait(first.service.last_notification_id(), timeout=30)
    finally:
        first.close()  # the active one goes away; its lock with it

    try:
        assert wait_until(lambda: second.projection_runner is not None, timeout=10)
        second.service.launch_campaign("after the takeover", DecisionContext(actor=ADMIN, at=LAUNCH))
        taken_over = second.projection_runner
        assert taken_over is not None
        taken_over.wait(second.service.last_notification_id(), timeout=30)
        assert second.election_state()["projections"] is True
    finally:
        second.close()
