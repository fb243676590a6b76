"""Liveness, readiness and metrics: no token needed for the first two."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentActor, ServiceDep, optional_actor
from api.metrics import CONTENT_TYPE, Metrics
from api.pages.session import session_token
from api.problems import ApiProblem, responses
from api.readcache import ReadCache
from api.readiness import Readiness
from api.schemas import Health, Ready
from api.verification import metric_lines
from application.errors import StoreUnavailable
from domain.values import Actor, Role
from ledger.operations import last_verification
from node import Node
from projections import Views
from projections.stalls import Stall

log = logging.getLogger("zhanyou.api")
router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers: on the event loop, never waiting on the store or the thread pool."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=responses(503))
async def readyz(request: Request) -> Ready:
    """Within 2 s: the event store takes a write and no view is stalled or stopped at an event it
    cannot store (503 naming the store or the view). The store's address and the driver's words
    go to the log, and to an organiser (an admin's token) who asks; anyone else is told which part
    is not ready."""
    readiness: Readiness = request.app.state.readiness
    verdict, asker = await asyncio.gather(readiness.check(), _asker(request))
    organiser = asker is not None and asker.role is Role.ADMIN
    if not verdict.ready or verdict.last_notification_id is None:
        problem = verdict.problem or "not ready"
        detail = verdict.detail or problem
        log.warning("not ready: %s", detail, extra={"rule": "not_ready"})
        raise ApiProblem(503, "not_ready", detail if organiser else problem, headers={"Retry-After": "5"})
    stalls = await run_in_threadpool(_stalls, request.app.state.views)
    if stalls:
        named = "; ".join(f"{s.view} before notification {s.notification_id}" for s in stalls)
        kinds = "; ".join(f"{s.view} before notification {s.notification_id} ({s.error})" for s in stalls)
        log.warning("not ready: views stopped at an event they cannot store: %s", kinds)
        said = kinds if organiser else named
        raise ApiProblem(
            503, "view_stalled", f"view_stalled: views stopped at an event they cannot store: {said}"
        )
    return Ready(status="ready", last_notification_id=verdict.last_notification_id)


async def _asker(request: Request) -> Actor | None:
    """Who asks, looked up beside the probe (never after it): only when a token came with the ask."""
    if "authorization" not in request.headers and session_token(request) is None:
        return None
    return await optional_actor(request)


def _stalls(views: Views) -> list[Stall]:
    try:
        return views.stalls.current()
    except (sqlite3.Error, psycopg.Error):  # the views' store is down: the store check speaks for it
        return []


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **responses(401)},
)
def metrics(request: Request, service: ServiceDep, actor: CurrentActor) -> Response:
    """Prometheus text format: requests and latency, refusals by rule, store errors, the event store's
    head, each view's position and lag, the elected roles this process holds and the read cache's
    hits and misses."""
    registry: Metrics = request.app.state.metrics
    try:
        last: int | None = service.last_notification_id()
    except StoreUnavailable:
        last = None
    views: Views = request.app.state.views
    try:
        positions = {view.name: view.position(service.name) for view in views.all}
    except (sqlite3.Error, psycopg.Error, OperationalError, InterfaceError):  # answer without positions
        positions = {}
    node: Node = request.app.state.node
    stalled = {s.view for s in _stalls(views)}
    cache: ReadCache = request.app.state.read_cache
    counts = {"hit": cache.hits, "miss": cache.misses, "query": cache.reads}
    body = registry.render(last, positions, node.election_state(), stalled, counts)
    with contextlib.suppress(sqlite3.Error, psycopg.Error):  # the store is down: metrics answer without it
        body += "".join(
            line + "\n" for line in metric_lines(last_verification(request.app.state.settings))
        ).encode()
    return Response(body, media_type=CONTENT_TYPE)
