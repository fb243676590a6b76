"""The composition root: one function builds a process of the service from the settings.

Every process can take every role. The API (when served) reads the service and the views;
the projections and the scheduler are background roles, each behind its own election
(``scheduler.leader``): one instance per store is active, the others stand by and take
over within seconds of the active one's death. ``zhanyou serve``, ``project``,
``scheduler``, the demo and the tests all build their process with ``build_node``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from application import listing
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from application.store_policy import patient
from domain.timeline import PhaseCode, PhaseStatus
from projections import Views, open_views
from projections.asof import AsOfViews
from projections.paused_collector import freeze_long_lived
from projections.runner import ProjectionRunner
from scheduler.checkpoints import checkpoint_at_boundaries
from scheduler.leader import PROJECTIONS, SCHEDULER, Elector, LeaderLock, Runnable, identity, lock_for
from scheduler.plan import RecordedEdge
from scheduler.runner import BoundaryRunner

Clock = Callable[[], datetime]
log = logging.getLogger("zhanyou")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Roles:
    """Which background roles this process stands for (it is active in those it wins)."""

    scheduler: bool = True
    projections: bool = True


@dataclass(frozen=True)
class Tuning:
    """How the background roles poll; defaults suit a served process."""

    projection_poll: float = 0.1
    projection_batch: int = 500
    projection_retry: float = 5.0
    scheduler_poll: float = 2.0
    election_retry: float = 1.0
    #: decode the likeliest campaign's events for as-of reads in the background at start
    as_of_warm_up: bool = True


class ElectedRole:
    """One background role: its elector on a thread of its own, active or standing by.

    The first round of the election runs at ``start`` in the caller's thread, so a single
    process is active as soon as it has started.
    """

    def __init__(
        self,
        role: str,
        lock: LeaderLock,
        make_runner: Callable[[], Runnable],
        *,
        me: str,
        retry_seconds: float,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.role = role
        options = {"say": say} if say is not None else {}
        self.elector = Elector(lock, make_runner, me=me, retry_seconds=retry_seconds, role=role, **options)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"zhanyou-{role}", daemon=True)

    @property
    def active(self) -> bool:
        return self.elector.active

    @property
    def runner(self) -> Runnable | None:
        return self.elector.runner

    def status(self) -> dict[str, object]:
        return self.elector.status()

    def start(self) -> None:
        # A first round that fails (the store is down) is retried by the elector's thread.
        with patient(), contextlib.suppress(Exception):
            self.elector.step()
        self._thread.start()

    def _run(self) -> None:
        with patient():
            self.elector.run(self._stop)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        else:  # never started: release what the first round may have taken
            self.elector.stop()


class Node:
    """One process: the service on its store, the views, and its elected background roles."""

    def __init__(
        self,
        settings: Settings,
        service: CampaignService,
        views: Views,
        roles: Roles,
        clock: Clock,
        tuning: Tuning,
        say: Callable[[str], None] | None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.views = views
        self.roles = roles
        self.me = identity()
        self.projections: ElectedRole | None = None
        self.scheduler: ElectedRole | None = None
        self._clock = clock
        self._tuning = tuning
        self._say = say
        self.on_recorded: Callable[[RecordedEdge], None] | None = None
        # the campaign's views at past instants, from the log
        self.as_of = AsOfViews(service, prefetch=service.person_keys.prefetch)
        self.scheduler_probe = lock_for(settings, self.me, SCHEDULER)  # to ask who is active
        self.projections_probe = lock_for(settings, self.me, PROJECTIONS)

    # --- roles -------------------------------------------------------------------

    def _projection_runner(self) -> ProjectionRunner:
        t = self._tuning
        return ProjectionRunner(
            self.service,
            self.views.all,
            poll_seconds=t.projection_poll,
            batch_size=t.projection_batch,
            retry_seconds=t.projection_retry,
            stalls=self.views.stalls,
        )

    def _boundary_runner(self) -> BoundaryRunner:
        # A checkpoint is signed at every boundary, then whoever else asked hears of it.
        hook = checkpoint_at_boundaries(self.settings, self._clock, then=self.on_recorded)
        return BoundaryRunner(
            self.service, self._clock, poll_seconds=self._tuning.scheduler_poll, on_recorded=hook
        )

    def start(self) -> Node:
        freeze_long_lived()
        retry = self._tuning.election_retry
        if self.roles.projections and self.projections is None:
            self.projections = ElectedRole(
                PROJECTIONS,
                lock_for(self.settings, self.me, PROJECTIONS),
                self._projection_runner,
                me=self.me,
                retry_seconds=retry,
                say=self._say,
            )
            self.projections.start()
        if self.roles.scheduler and self.scheduler is None:
            self.scheduler = ElectedRole(
                SCHEDULER,
                lock_for(self.settings, self.me, SCHEDULER),
                self._boundary_runner,
                me=self.me,
                retry_seconds=retry,
                say=self._say,
            )
            self.scheduler.start()
        return self

    def warm_as_of(self) -> None:
        """Decode, in the background, the events of the campaign an as-of read most likely asks for:
        the one launched last among those whose registration has opened."""
        if self._tuning.as_of_warm_up:
            self.as_of.warm_in_background(self._campaign_to_warm, self._say or log.info)

    def _campaign_to_warm(self) -> UUID | None:
        now, chosen = self._clock(), None
        for campaign in listing.campaigns(self.service):
            recorded = campaign.phase_status[PhaseCode.REGISTRATION]
            dated = campaign.status_at(PhaseCode.REGISTRATION, now)
            if recorded is not PhaseStatus.PENDING or dated is not PhaseStatus.PENDING:
                chosen = campaign.id
        return chosen

    def stop(self) -> None:
        for role in (self.scheduler, self.projections):
            if role is not None:
                role.stop()
        self.scheduler = self.projections = None

    def close(self) -> None:
        self.stop()
        self.scheduler_probe.release()
        self.projections_probe.release()
        self.as_of.close()
        self.views.close()
        self.service.close()

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- observing ---------------------------------------------------------------

    @property
    def projection_runner(self) -> ProjectionRunner | None:
        """The views' runner when this process is the active one (read-your-writes waits on it)."""
        runner = self.projections.runner if self.projections is not None else None
        return runner if isinstance(runner, ProjectionRunner) else None

    def election_state(self) -> dict[str, bool | None]:
        """Per role: True active here, False standing by here, None not taken by this process."""
        return {
            PROJECTIONS: None if self.projections is None else self.projections.active,
            SCHEDULER: None if self.scheduler is None else self.scheduler.active,
        }


def build_node(
    settings: Settings,
    roles: Roles | None = None,
    *,
    clock: Clock = utc_now,
    tuning: Tuning | None = None,
    say: Callable[[str], None] | None = None,
) -> Node:
    """The service, the views and the elected roles of one process (not started yet)."""
    service = build_service(settings)
    try:
        views = open_views(settings)
    except BaseException:
        service.close()
        raise
    return Node(settings, service, views, roles or Roles(), clock, tuning or Tuning(), say)
