"""Per request: an id (the caller's X-Request-ID, or a fresh one), a log context, a deadline for the
store, a record of whether its writes may have committed (for a 503's answer), one access line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.logs import log_context
from application.store_policy import request_deadline, tracking_writes

log = logging.getLogger("zhanyou.access")
STORE_SECONDS = 1.5  # no store call of a request is tried again later: a failing store answers 503 fast
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
        status, position, started = 500, None, time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, position
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                position = dict(headers).get(b"x-log-position")
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        with (
            log_context(request_id=request_id) as context,
            request_deadline(STORE_SECONDS),
            tracking_writes(),
        ):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                campaign = (scope.get("path_params") or {}).get("cid")
                context["campaign"] = str(campaign) if campaign is not None else None
                context["log_position"] = int(position) if position else None
                log.info(
                    "%s %s %d",
                    scope["method"],
                    route,
                    status,
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
