"""Turns campaign timelines into timed calls of ``record_due_boundaries``.

The campaign events are the source of truth: at start the runner catches up every
campaign (records what is already due) and plans one APScheduler date job per pending
boundary; a periodic poll of the notification log re-plans any campaign that was
launched, amended, opened or closed since, so no restart is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import TypeVar
from uuid import UUID

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from eventsourcing.utils import get_topic

from application.service import CampaignService
from application.store_policy import patient
from domain.campaign import Campaign
from domain.decision import DecisionContext
from domain.timeline import require_aware
from domain.values import SCHEDULER
from scheduler.plan import (
    BoundaryState,
    PlannedBoundary,
    PlannedRetention,
    RecordedEdge,
    pending,
    plan_of,
    recorded_edges,
    retention_of,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")

LAUNCHED_TOPIC = get_topic(Campaign.CampaignLaunched)
WATCHED_TOPICS = tuple(
    get_topic(kind)
    for kind in (
        Campaign.CampaignLaunched,
        Campaign.TimelineAmended,
        Campaign.PhaseOpened,
        Campaign.PhaseClosed,
        Campaign.RetentionSet,
    )
)
PAGE = 500
POLL_JOB_ID = "zhanyou:poll"


def _patiently(job: Callable[..., T]) -> Callable[..., T]:
    """A timer's job runs on APScheduler's thread: its store calls wait as a worker's do."""

    @wraps(job)
    def run(*args: object) -> T:
        with patient():
            return job(*args)

    return run


@dataclass(frozen=True)
class Firing:
    """What one call recorded; ``edges`` are the stored events, in order.

    :ivar erased: how many contestants' personal data the retention policy erased, if it fell due.
    """

    campaign_id: UUID
    at: datetime
    edges: list[RecordedEdge]
    erased: int | None = None


class BoundaryRunner:
    """Records each campaign's phase boundaries when they are due.

    ``clock`` gives the instant passed as ``at`` (aware); the APScheduler timers fire
    on real time, so a simulated clock goes with ``start(paused=True)`` and explicit
    ``run_due()``/``poll()`` calls.
    """

    def __init__(
        self,
        service: CampaignService,
        clock: Clock,
        *,
        poll_seconds: float = 2.0,
        on_recorded: Callable[[RecordedEdge], None] | None = None,
    ) -> None:
        self.service = service
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.on_recorded = on_recorded
        self._lock = threading.RLock()
        self._jobs: dict[UUID, dict[str, int]] = {}  # job id -> position in the timeline
        self._last_seen = 0
        self._retry: set[UUID] = set()  # campaigns whose timer failed: refreshed by the next poll
        self._timers = ThreadPoolExecutor(max_workers=1)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": self._timers},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    # --- life cycle ----------------------------------------------------------

    def start(self, *, paused: bool = False) -> None:
        """Catch up every campaign, plan its pending boundaries, start the timers."""
        self.scheduler.start(paused=True)
        campaigns = self._scan()
        for campaign_id in campaigns:
            self._refresh(campaign_id)
        if not paused:
            self.scheduler.add_job(
                _patiently(self.poll),
                IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
                id=POLL_JOB_ID,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=None,
            )
            self.scheduler.resume()

    def stop(self) -> None:
        if self.scheduler.running:
            # Not ``shutdown(wait=True)``: APScheduler would wait for a running timer while
            # holding the lock that timer needs to plan the next ones, and neither would end.
            self.scheduler.shutdown(wait=False)
            self._timers.shutdown(wait=True)

    # --- queries -------------------------------------------------------------

    def campaigns(self) -> list[UUID]:
        with self._lock:
            return list(self._jobs)

    def plan(self, campaign_id: UUID) -> list[PlannedBoundary]:
        """Every boundary of the campaign's timeline with its state (for GET /schedule)."""
        campaign = self.service.get_campaign(campaign_id)
        return plan_of(campaign, self.service.events.get(campaign_id))

    def retention(self, campaign_id: UUID) -> PlannedRetention | None:
        campaign = self.service.get_campaign(campaign_id)
        return retention_of(campaign, self.service.events.get(campaign_id))

    def jobs(self) -> list[tuple[str, datetime]]:
        """The planned timer jobs, (job id, run time), soonest first."""
        with self._lock:
            position = {jid: index for planned in self._jobs.values() for jid, index in planned.items()}
        found = [(job.id, job.next_run_time) for job in self.scheduler.get_jobs() if job.id != POLL_JOB_ID]
        return sorted(found, key=lambda item: (item[1], position.get(item[0], 0), item[0]))

    # --- actions -------------------------------------------------------------

    def fire(self, campaign_id: UUID) -> Firing:
        """Record whatever is due by now for one campaign (what each timer job does)."""
        at = require_aware(self.clock(), "scheduler clock")
        with self._lock:
            before = _version(self.service, campaign_id)
            recorded = self.service.record_due_boundaries(
                campaign_id, DecisionContext(actor=SCHEDULER, at=at)
            )
            edges: list[RecordedEdge] = []
            if recorded:
                events = self.service.events.get(campaign_id, gt=before)
                edges = [e for e in recorded_edges(campaign_id, events) if e.by == "scheduler"]
            # after the boundaries: the ceremony's end is on record before its data go
            erased = self.service.carry_out_retention(campaign_id, DecisionContext(actor=SCHEDULER, at=at))
        for edge in edges:
            log.info("recorded %s %s of campaign %s", edge.code, edge.side, campaign_id)
            if self.on_recorded is not None:
                self.on_recorded(edge)
        if erased is not None:
            log.info(
                "erased the personal data of %d contestants of campaign %s (retention)", erased, campaign_id
            )
        return Firing(campaign_id, at, edges, erased)

    def run_due(self) -> list[Firing]:
        """Run, now, every planned job whose time has come by the clock (for a paused runner)."""
        now = self.clock()
        firings: list[Firing] = []
        for job_id, run_at in self.jobs():
            if run_at > now:
                break
            job = self.scheduler.get_job(job_id)
            if job is None:
                continue
            self.scheduler.remove_job(job_id)
            firings.append(self._on_timer(*job.args))
        return firings

    def poll(self) -> set[UUID]:
        """Catch up and re-plan every campaign touched since the last poll."""
        touched = self._scan()
        with self._lock:
            retry, self._retry = self._retry, set()
        for campaign_id in touched | retry:
            try:
                self._refresh(campaign_id)
            except Exception:
                with self._lock:
                    self._retry.add(campaign_id)
                raise
        return touched

    # --- machinery -----------------------------------------------------------

    def _on_timer(self, campaign_id: UUID) -> Firing:
        try:
            firing = self.fire(campaign_id)
            self._replan(campaign_id, firing.at)
            return firing
        except Exception:
            log.exception(
                "recording the due boundaries of campaign %s failed; retrying at the next poll", campaign_id
            )
            with self._lock:
                self._retry.add(campaign_id)
            raise

    def _scan(self) -> set[UUID]:
        """Campaigns with watched events after the last seen notification."""
        touched: set[UUID] = set()
        while True:
            with self._lock:
                start = self._last_seen
            page = self.service.recorder.select_notifications(
                start=start, limit=PAGE, topics=WATCHED_TOPICS, inclusive_of_start=False
            )
            for notification in page:
                touched.add(UUID(str(notification.originator_id)))
            if page:
                with self._lock:
                    self._last_seen = max(self._last_seen, page[-1].id)
            if len(page) < PAGE:
                return touched

    def _refresh(self, campaign_id: UUID) -> None:
        self._replan(campaign_id, self.fire(campaign_id).at)

    def _replan(self, campaign_id: UUID, fired_at: datetime) -> None:
        """One job per pending boundary still ahead of ``fired_at``.

        A pending boundary at or before ``fired_at`` was just declined by the domain;
        planning it again would only fire again at once.
        """
        wanted: dict[str, PlannedBoundary | PlannedRetention] = {}
        for boundary in pending(self.plan(campaign_id)):
            if boundary.instant <= fired_at:
                log.warning(
                    "%s %s of campaign %s is due but was not recorded",
                    boundary.code,
                    boundary.side,
                    campaign_id,
                )
                continue
            wanted[boundary.job_id] = boundary
        retention = self.retention(campaign_id)
        if retention is not None and retention.state is BoundaryState.PENDING:
            if retention.instant > fired_at:
                wanted[retention.job_id] = retention
            else:
                log.warning("the retention policy of campaign %s is due but was not carried out", campaign_id)
        with self._lock:
            for stale in self._jobs.get(campaign_id, {}).keys() - wanted.keys():
                if self.scheduler.get_job(stale) is not None:
                    self.scheduler.remove_job(stale)
            for job_id, planned in wanted.items():
                if self.scheduler.get_job(job_id) is not None:
                    continue
                self.scheduler.add_job(
                    _patiently(self._on_timer),
                    DateTrigger(run_date=planned.instant, timezone=UTC),
                    args=(campaign_id,),
                    id=job_id,
                    name=_job_name(planned),
                    misfire_grace_time=None,
                    coalesce=True,
                    replace_existing=True,
                )
            self._jobs[campaign_id] = {jid: index for index, jid in enumerate(wanted)}


def _job_name(boundary: PlannedBoundary | PlannedRetention) -> str:
    if isinstance(boundary, PlannedRetention):
        return f"retention after {boundary.erase_after_days} days"
    return f"{boundary.code} {boundary.side}"


def _version(service: CampaignService, campaign_id: UUID) -> int:
    campaign: Campaign = service.get_campaign(campaign_id)
    return campaign.version
