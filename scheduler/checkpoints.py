"""A signed checkpoint at every phase boundary the scheduler records."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from application.settings import Settings
from ledger.operations import NothingToCheckpoint, take_checkpoint
from ledger.signers import signer_name
from scheduler.plan import RecordedEdge

log = logging.getLogger(__name__)


def checkpoint_at_boundaries(
    settings: Settings, clock: Callable[[], datetime], then: Callable[[RecordedEdge], None] | None = None
) -> Callable[[RecordedEdge], None]:
    """An ``on_recorded`` hook: sign the chain's head once the boundary's event is stored."""

    def on_recorded(edge: RecordedEdge) -> None:
        reason = f"campaign {edge.campaign_id}: {edge.code.value} {edge.side}"
        try:
            signed = take_checkpoint(settings, reason=reason, signer=signer_name("scheduler"), at=clock())
        except NothingToCheckpoint:
            log.warning("no checkpoint at %s: the store is not sealed (zhanyou seal)", reason)
        except Exception:  # a failed checkpoint must not stop the phases; the next boundary signs again
            log.exception("no checkpoint at %s", reason)
        else:
            log.info(
                "checkpoint at %s: count %d head %s", reason, signed.checkpoint.count, signed.checkpoint.head
            )
        if then is not None:
            then(edge)

    return on_recorded
