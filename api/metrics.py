"""Request counts per route and status, in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Set

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestCounter:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()

    def count(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._counts[(method, route, str(status))] += 1

    def snapshot(self) -> dict[tuple[str, str, str], int]:
        with self._lock:
            return dict(self._counts)


class CountRequests:
    """ASGI middleware: counts every answered request by its route template, not its path."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

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
            self.counter.count(scope["method"], template, status)


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
            from api.problems import problem_response

            response = problem_response(
                413, "too_large", f"too_large: the request body exceeds {self.max_bytes} bytes"
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


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(
    counts: dict[tuple[str, str, str], int],
    last_notification_id: int | None,
    view_positions: Mapping[str, int] | None = None,
    stalled_views: Set[str] = frozenset(),
) -> str:
    lines = [
        "# HELP zhanyou_http_requests_total HTTP requests answered, by method, route and status.",
        "# TYPE zhanyou_http_requests_total counter",
    ]
    for (method, route, status), n in sorted(counts.items()):
        labels = f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'
        lines.append(f"zhanyou_http_requests_total{{{labels}}} {n}")
    lines += [
        "# HELP zhanyou_event_store_up 1 when the event store answered the last scrape.",
        "# TYPE zhanyou_event_store_up gauge",
        f"zhanyou_event_store_up {0 if last_notification_id is None else 1}",
    ]
    if last_notification_id is not None:
        lines += [
            "# HELP zhanyou_event_store_max_notification_id Highest notification id in the event store.",
            "# TYPE zhanyou_event_store_max_notification_id gauge",
            f"zhanyou_event_store_max_notification_id {last_notification_id}",
        ]
    if view_positions:
        lines += [
            "# HELP zhanyou_view_position Last notification id each view has processed.",
            "# TYPE zhanyou_view_position gauge",
            *(f'zhanyou_view_position{{view="{name}"}} {n}' for name, n in sorted(view_positions.items())),
        ]
        lines += [
            "# HELP zhanyou_view_stalled 1 when the view is stopped at an event it cannot store.",
            "# TYPE zhanyou_view_stalled gauge",
            *(
                f'zhanyou_view_stalled{{view="{name}"}} {int(name in stalled_views)}'
                for name in sorted(view_positions)
            ),
        ]
        if last_notification_id is not None:
            lines += [
                "# HELP zhanyou_view_lag Notifications each view is behind the event store.",
                "# TYPE zhanyou_view_lag gauge",
                *(
                    f'zhanyou_view_lag{{view="{name}"}} {max(0, last_notification_id - n)}'
                    for name, n in sorted(view_positions.items())
                ),
            ]
    return "\n".join(lines) + "\n"
