"""Work the embedded default runs inside the API process: the phase scheduler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from application.service import CampaignService
from application.settings import Settings
from scheduler.checkpoints import checkpoint_at_boundaries
from scheduler.leader import Elector, LeaderLock, identity, lock_for
from scheduler.runner import BoundaryRunner


class InProcessScheduler:
    """The scheduler's elector on a thread of its own: active, or standing by for another process."""

    def __init__(self, service: CampaignService, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.me = identity()
        self.elector = Elector(
            lock_for(settings, self.me),
            lambda: BoundaryRunner(service, clock, on_recorded=checkpoint_at_boundaries(settings, clock)),
            me=self.me,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.elector.run, args=(self._stop,), name="scheduler", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def leader_probe(settings: Settings) -> LeaderLock:
    """A lock handle used only to ask who holds the scheduler lock."""
    return lock_for(settings, identity())
