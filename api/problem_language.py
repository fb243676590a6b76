"""Problems in Chinese for clients that ask for it (``Accept-Language: zh``), from one catalogue.

A response middleware, so that every problem speaks the same way whichever layer refused:
the exception handlers, a replayed idempotent answer (stored in the neutral form), or the
body-size limit. ``type`` and ``rule`` never change: clients match on them.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import messages_zh
from api.problems import PROBLEM_MEDIA_TYPE


class ProblemsInChinese:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not messages_zh.wants_chinese(
            Headers(scope=scope).get("accept-language")
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def translate(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if (
                    Headers(raw=message.get("headers", []))
                    .get("content-type", "")
                    .startswith(PROBLEM_MEDIA_TYPE)
                ):
                    start = message  # held until the whole body is read
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = json.dumps(
                messages_zh.localised(json.loads(b"".join(chunks))), ensure_ascii=False
            ).encode()
            headers = MutableHeaders(raw=list(start.get("headers", [])))
            headers["content-length"] = str(len(body))
            headers["content-language"] = "zh-CN"
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, translate)
