"""The app factory: nothing is built at import time; the service lives in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from api import problems
from api.background import InProcessScheduler, leader_probe
from api.config import ApiSettings
from api.headers import SecurityHeaders
from api.idempotency import KeyLocks
from api.metrics import CountRequests, LimitBody, RequestCounter
from api.ratelimit import RateLimiter
from api.readmodel import LogPosition
from api.routers import campaigns, contestants, health, imports, registrations, reports, schedule, users
from application.bootstrap import build_service
from application.settings import Settings
from projections import open_views
from projections.runner import ProjectionRunner

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    api_settings: ApiSettings | None = None,
    *,
    clock: Clock = utc_now,
    run_scheduler: bool = False,
    run_projections: bool = True,
) -> FastAPI:
    """The service over ``settings``; ``clock`` gives the instant of every decision.

    ``run_scheduler`` and ``run_projections`` run the phase scheduler and the views in this
    process (the embedded default); in production they run as ``zhanyou scheduler`` and
    ``zhanyou project`` processes of their own, and the API only reads the views.
    """
    chosen = api_settings or ApiSettings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = build_service(settings)
        app.state.service = service
        app.state.leader_probe = probe = leader_probe(settings)
        app.state.views = views = open_views(settings)
        runner = None
        if run_projections:
            runner = ProjectionRunner(service, views.all, stalls=views.stalls).start()
        app.state.projection_runner = runner
        background = InProcessScheduler(service, settings, clock) if run_scheduler else None
        if background is not None:
            background.start()
        try:
            yield
        finally:
            if background is not None:
                background.stop()
            if runner is not None:
                runner.stop()
            views.close()
            probe.release()
            service.close()

    app = FastAPI(
        title="Zhanyou Cup campaign service (战友杯)",
        version="0.1.0",
        description=(
            "Campaign, contestants and decisions of the Zhanyou Cup livestream contest. "
            "Errors are RFC 9457 problem details whose `type` is "
            f"`{problems.PROBLEM_BASE}<rule>`. ID and mobile numbers are masked everywhere "
            "except `/api/contestants/{id}/pii`."
        ),
        lifespan=lifespan,
    )
    app.state.api_settings = chosen
    app.state.clock = clock
    app.state.answer_locks = KeyLocks()
    app.state.registration_limiter = RateLimiter(chosen.registration_rate)
    app.state.request_counter = counter = RequestCounter()
    problems.install(app)
    for module in (health, users, campaigns, reports, imports, schedule, registrations, contestants):
        app.include_router(module.router)
    app.add_middleware(LimitBody, max_bytes=chosen.max_body_bytes)
    app.add_middleware(LogPosition)
    app.add_middleware(CountRequests, counter=counter)
    app.add_middleware(SecurityHeaders)  # outermost: refusals by the other middlewares carry them too
    _document_problem(app)
    return app


def _document_problem(app: FastAPI) -> None:
    """Every error answer in the OpenAPI document is problem+json, 422s included."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            problem = {problems.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for path, path_item in schema.get("paths", {}).items():
                for operation in path_item.values():
                    answers = operation.setdefault("responses", {})
                    extra = [] if path == "/healthz" else [422, 503]
                    if "requestBody" in operation:
                        extra += [400, 413]
                    for status in extra:
                        answers.setdefault(str(status), {"description": HTTPStatus(status).phrase})
                    for code, answer in answers.items():
                        if code.isdigit() and int(code) >= 400:
                            answer["content"] = dict(problem)
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
