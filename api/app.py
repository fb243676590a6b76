"""The app factory: nothing is built at import time; the service lives in the lifespan."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from starlette.routing import NoMatchFound
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import docs, problems
from api.config import ApiSettings
from api.deadline import AnswerWithin
from api.headers import SecurityHeaders
from api.idempotency import KeyLocks
from api.logcontext import RequestContext
from api.metrics import CountRequests, LimitBody, Metrics
from api.pages import routes as pages
from api.pages.session import SessionSigner
from api.problem_language import ProblemsInChinese
from api.ratelimit import RateLimiter, open_hits
from api.readcache import CacheSweeper, ReadCache
from api.readiness import Readiness
from api.readmodel import LogPosition
from api.recent_tokens import RecentTokens
from api.routers import (
    audit,
    bulk,
    campaigns,
    contestants,
    decisions,
    health,
    imports,
    listings,
    registrations,
    reports,
    review,
    schedule,
    statistics,
    teams,
    users,
)
from api.verification import VerificationJob
from application.settings import Settings
from node import Node, Roles, Tuning, build_node, utc_now

Clock = Callable[[], datetime]


def _view_positions(node: Node, names: list[str]) -> Mapping[str, int]:
    """The named views' positions: this process's runner's, else the store's."""
    runner = node.projection_runner
    if runner is not None:
        return runner.positions()
    return {name: node.views.by_name[name].position(node.service.name) for name in names}


def _build_routes(app: FastAPI) -> None:
    """FastAPI builds a route's request and response models the first time a request is matched
    against it (0.4 s for all of this app's): a name no route has looks through them all, so
    they are built at start-up rather than by the first request."""
    with suppress(NoMatchFound):
        app.url_path_for("")


def create_app(
    settings: Settings,
    api_settings: ApiSettings | None = None,
    *,
    clock: Clock = utc_now,
    roles: Roles | None = None,
    tuning: Tuning | None = None,
    node: Node | None = None,
) -> FastAPI:
    """The service over ``settings``; ``clock`` gives the instant of every decision.

    ``roles`` says which background roles this process stands for (``zhanyou serve``: both;
    the tests: the views only, the scheduler where a test drives it). Each role is elected:
    active here, or standing by while another process holds it. ``node`` is the process
    already built by the caller (``zhanyou serve`` builds it first, to fail in one line).
    """
    chosen = api_settings or ApiSettings.load()
    wanted = roles or Roles(scheduler=False, projections=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = node or build_node(settings, wanted, clock=clock, tuning=tuning)
        app.state.node = built
        app.state.service = built.service
        app.state.views = built.views
        app.state.readiness = readiness = Readiness(built)
        app.state.registration_limiter = limiter = RateLimiter(open_hits(settings), chosen.registration_rate)
        app.state.lookup_limiter = lookups = RateLimiter(
            open_hits(settings), chosen.lookup_rate, what="status look-ups", scope="lookup:"
        )
        app.state.verification = verification = VerificationJob(settings)
        built.start()
        built.warm_as_of()
        _build_routes(app)
        sweeper = CacheSweeper(app.state.read_cache, partial(_view_positions, built)).start()
        try:
            yield
        finally:
            sweeper.stop()
            verification.stop()
            limiter.close()
            lookups.close()
            readiness.close()
            built.close()

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
        docs_url=None,  # served from the service's own assets (``api.docs``)
        redoc_url=None,
    )
    docs.install(app)
    app.state.api_settings = chosen
    app.state.settings = settings
    app.state.clock = clock
    app.state.answer_locks = KeyLocks()
    app.state.recent_tokens = RecentTokens()
    app.state.read_cache = ReadCache(chosen.read_cache_entries)
    app.state.metrics = metrics = Metrics()
    secret = chosen.session_secret.get_secret_value().encode() if chosen.session_secret else None
    app.state.session_signer = SessionSigner(secret or secrets.token_bytes(32), chosen.session_hours * 3600)
    problems.install(app)
    for module in (
        health,
        users,
        listings,
        campaigns,
        reports,
        teams,
        statistics,
        imports,
        bulk,
        review,
        schedule,
        registrations,
        contestants,
        decisions,
        audit,
    ):
        app.include_router(module.router)
    pages.install(app)
    app.add_middleware(LimitBody, max_bytes=chosen.max_body_bytes)
    app.add_middleware(problems.RefuseEncodedBodies)
    app.add_middleware(AnswerWithin, seconds=chosen.answer_within_seconds)  # its 503 in Chinese too
    app.add_middleware(ProblemsInChinese)
    app.add_middleware(LogPosition)
    app.add_middleware(CountRequests, metrics=metrics)
    app.add_middleware(RequestContext)  # every line of the request carries its id
    app.add_middleware(SecurityHeaders)  # refusals by the other middlewares carry them too
    if chosen.trusted_proxy_list:  # outermost: every layer sees the client the proxies forwarded
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=chosen.trusted_proxy_list)
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
                        extra += [400, 413, 415]
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
