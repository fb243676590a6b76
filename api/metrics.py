"""Prometheus metrics (``prometheus-client``), one registry per app, and the request-size limit.

Counted as they happen: requests and their latency by method, route template and status;
refusals by rule (every problem+json answer); store errors. Read at each scrape: the event
store's head (and whether it answered), each view's position and lag, which elected roles
this process holds, and the read cache's hits, misses and queries since start.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Set

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)


class Metrics:
    """Everything /metrics shows, on a registry of this app's own (tests build many apps)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "zhanyou_http_requests",
            "HTTP requests answered, by method, route and status.",
            labels,
            registry=registry,
        )
        self.latency = Histogram(
            "zhanyou_http_request_duration_seconds",
            "Time to answer, by method, route and status.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.refusals = Counter(
            "zhanyou_refusals",
            "Problem answers, by the rule that refused.",
            ("rule", "status"),
            registry=registry,
        )
        self.store_errors = Counter(
            "zhanyou_store_errors",
            "Requests that failed because the store did not answer.",
            registry=registry,
        )
        self.store_up = Gauge(
            "zhanyou_event_store_up", "1 when the event store answered the last scrape.", registry=registry
        )
        self.head = Gauge(
            "zhanyou_event_store_max_notification_id",
            "Highest notification id in the event store.",
            registry=registry,
        )
        self.view_position = Gauge(
            "zhanyou_view_position",
            "Last notification id each view has processed.",
            ("view",),
            registry=registry,
        )
        self.view_stalled = Gauge(
            "zhanyou_view_stalled",
            "1 when the view is stopped at an event it cannot store.",
            ("view",),
            registry=registry,
        )
        self.view_lag = Gauge(
            "zhanyou_view_lag",
            "Notifications each view is behind the event store.",
            ("view",),
            registry=registry,
        )
        self.role_active = Gauge(
            "zhanyou_role_active",
            "1 when this process is the active instance of an elected role, 0 when it stands by.",
            ("role",),
            registry=registry,
        )

        self.read_cache = Gauge(
            "zhanyou_read_cache_answers",
            "Roster and quotas reads since start: answered from the read cache (hit), not (miss), "
            "and the view queries the misses ran (query; readers of one body share one).",
            ("outcome",),
            registry=registry,
        )

    def refused(self, rule: str, status: int) -> None:
        self.refusals.labels(rule=rule, status=str(status)).inc()
        if rule == "store_unavailable":
            self.store_errors.inc()

    def render(
        self,
        last_notification_id: int | None,
        view_positions: Mapping[str, int],
        roles: Mapping[str, bool | None],
        stalled_views: Set[str] = frozenset(),
        read_cache: Mapping[str, int] | None = None,
    ) -> bytes:
        self.store_up.set(0 if last_notification_id is None else 1)
        if last_notification_id is not None:
            self.head.set(last_notification_id)
        for name, position in view_positions.items():
            self.view_position.labels(view=name).set(position)
            self.view_stalled.labels(view=name).set(int(name in stalled_views))
            if last_notification_id is not None:
                self.view_lag.labels(view=name).set(max(0, last_notification_id - position))
        for role, active in roles.items():
            if active is not None:
                self.role_active.labels(role=role).set(1 if active else 0)
        for outcome, count in (read_cache or {}).items():
            self.read_cache.labels(outcome=outcome).set(count)
        return generate_latest(self.registry)


class CountRequests:
    """ASGI middleware: counts and times every answered request by its route template, not its path."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labels = {"method": scope["method"], "route": template, "status": str(status)}
            self.metrics.requests.labels(**labels).inc()
            self.metrics.latency.labels(**labels).observe(time.perf_counter() - started)


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read past the limit: FastAPI passes HTTP exceptions on as they are."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"too_large: the request body exceeds {max_bytes} bytes")


class LimitBody:
    """ASGI middleware: a body larger than the limit is refused with 413.

    A declared ``Content-Length`` over the limit is refused before anything is read. A body
    without one (chunked) is counted as it arrives: once past the limit, reading it raises
    ``BodyTooLarge``, so at most ``max_bytes`` are ever held, and a route's dependencies
    (authentication included) never run, since FastAPI reads the body before solving them.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            from api.problems import FieldProblem, problem_response

            said = f"the request body exceeds {self.max_bytes} bytes"
            response = problem_response(
                413,
                "too_large",
                f"too_large: {said}",
                instance=scope.get("path"),
                errors=[FieldProblem(field="body", detail=said)],
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
