"""The scheduler signs a checkpoint at every phase boundary it records."""

from __future__ import annotations

from application.bootstrap import build_service
from application.settings import Settings
from domain.decision import DecisionContext
from ledger.operations import public_key, stored_checkpoints, verify
from scheduler.checkpoints import checkpoint_at_boundaries
from scheduler.runner import BoundaryRunner
from tests.builders import ADMIN, shanghai
from tests.ledger.helpers import with_key
from tests.scheduler.helpers import FakeClock


def test_every_recorded_boundary_gets_a_signed_checkpoint_of_the_head(settings: Settings) -> None:
    keyed = with_key(settings)
    service = build_service(keyed)
    try:
        cid = service.launch_campaign("战友杯 2021", DecisionContext(actor=ADMIN, at=shanghai(2021, 5, 1)))
        clock = FakeClock(shanghai(2021, 6, 8, 1))  # publicity opened and closed, registration opened
        runner = BoundaryRunner(service, clock, on_recorded=checkpoint_at_boundaries(keyed, clock))
        firing = runner.fire(cid)
        head = service.last_notification_id()
    finally:
        service.close()
    checkpoints = stored_checkpoints(keyed)
    assert len(checkpoints) == len(firing.edges) >= 3
    assert [c.checkpoint.reason for c in checkpoints] == [
        f"campaign {cid}: {e.code.value} {e.side}" for e in firing.edges
    ]
    key = public_key(keyed)
    assert key is not None
    assert all(c.signed_by(key) for c in checkpoints)
    assert {c.checkpoint.notification_id for c in checkpoints} == {head}
    result = verify(keyed)
    assert result.ok
    assert result.checkpoints == len(checkpoints)
