"""Liveness, readiness and metrics: no token needed for the first two."""

from __future__ import annotations

import contextlib
import sqlite3

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentActor, ServiceDep
from api.metrics import CONTENT_TYPE, Metrics
from api.problems import ApiProblem, responses
from api.readcache import ReadCache
from api.readiness import Readiness
from api.schemas import Health, Ready
from api.verification import metric_lines
from application.errors import StoreUnavailable
from ledger.operations import last_verification
from node import Node
from projections import Views
from projections.stalls import Stall

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers: on the event loop, never waiting on the store or the thread pool."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=responses(503))
async def readyz(request: Request) -> Ready:
    """Within 2 s: the event store takes a write and no view is stalled or stopped at an event it
    cannot store (503 naming the cause)."""
    readiness: Readiness = request.app.state.readiness
    verdict = await readiness.check()
    if not verdict.ready or verdict.last_notification_id is None:
        raise ApiProblem(503, "not_ready", verdict.problem or "not ready", headers={"Retry-After": "5"})
    stalls = await run_in_threadpool(_stalls, request.app.state.views)
    if stalls:
        named = "; ".join(f"{s.view} before notification {s.notification_id} ({s.error})" for s in stalls)
        raise ApiProblem(
            503, "view_stalled", f"view_stalled: views stopped at an event they cannot store: {named}"
        )
    return Ready(status="ready", last_notification_id=verdict.last_notification_id)


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
