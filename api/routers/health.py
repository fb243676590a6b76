"""Liveness, readiness and metrics: no token needed for the first two."""

from __future__ import annotations

import contextlib
import sqlite3

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import CurrentActor, ServiceDep
from api.metrics import RequestCounter, render
from api.problems import responses
from api.schemas import Health, Ready
from api.verification import metric_lines
from application.errors import StoreUnavailable
from ledger.operations import last_verification
from projections import Views

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=responses(503))
def readyz(service: ServiceDep) -> Ready:
    """The event store answers (503 when it does not)."""
    return Ready(status="ready", last_notification_id=service.last_notification_id())


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **responses(401)},
)
def metrics(request: Request, service: ServiceDep, actor: CurrentActor) -> PlainTextResponse:
    """Prometheus text format: request counts, the event store's head, each view's position and lag."""
    counter: RequestCounter = request.app.state.request_counter
    try:
        last: int | None = service.last_notification_id()
    except StoreUnavailable:
        last = None
    views: Views = request.app.state.views
    try:
        positions = {view.name: view.position(service.name) for view in views.all}
    except (sqlite3.Error, psycopg.Error):  # the views' store is down: metrics answer without positions
        positions = {}
    text = render(counter.snapshot(), last, positions)
    with contextlib.suppress(sqlite3.Error, psycopg.Error):  # the store is down: metrics answer without it
        text += "".join(line + "\n" for line in metric_lines(last_verification(request.app.state.settings)))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
