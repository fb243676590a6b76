"""Headers every answer carries, so a browser never sniffs, frames or leaks what it shows."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every answer; ``Cache-Control: no-store`` on personal data.

    ``/pii`` answers carry full ID and mobile numbers, and what an authenticated reader is given
    under ``/api/`` (rosters, exports, histories) carries names: no browser or proxy cache may
    keep them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        personal = path.rstrip("/").endswith("/pii")
        private = path.startswith("/api/") and any(
            name in (b"authorization", b"cookie") for name, _ in scope.get("headers", ())
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if personal:
                    headers["Cache-Control"] = "no-store"
                elif private and message["status"] < 300:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
