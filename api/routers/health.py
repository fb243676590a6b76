"""Liveness, readiness and metrics: no token needed for the first two."""

from __future__ import annotations

import sqlite3

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import CurrentActor, ServiceDep
from api.metrics import RequestCounter, render
from api.problems import ApiProblem, responses
from api.schemas import Health, Ready
from application.errors import StoreUnavailable
from projections import Views
from projections.stalls import Stall

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Ready, responses=responses(503))
def readyz(request: Request, service: ServiceDep) -> Ready:
    """The event store answers and no view is stopped at an event (503 naming the view otherwise)."""
    last = service.last_notification_id()
    stalls = _stalls(request.app.state.views)
    if stalls:
        named = "; ".join(f"{s.view} before notification {s.notification_id} ({s.error})" for s in stalls)
        raise ApiProblem(
            503, "view_stalled", f"view_stalled: views stopped at an event they cannot store: {named}"
        )
    return Ready(status="ready", last_notification_id=last)


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
    stalled = {s.view for s in _stalls(views)}
    text = render(counter.snapshot(), last, positions, stalled)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
