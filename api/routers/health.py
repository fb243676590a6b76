"""Liveness, readiness and metrics: no token needed for the first two."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import CurrentActor, ServiceDep
from api.metrics import RequestCounter, render
from api.problems import responses
from api.schemas import Health, Ready
from application.errors import StoreUnavailable

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
    """Prometheus text format: request counts and the event store's last notification id."""
    counter: RequestCounter = request.app.state.request_counter
    try:
        last: int | None = service.last_notification_id()
    except StoreUnavailable:
        last = None
    return PlainTextResponse(render(counter.snapshot(), last), media_type="text/plain; version=0.0.4")
