"""A request the store keeps waiting is answered 503 all the same.

A store that refuses connections or drops them is answered within ``STORE_SECONDS`` (see
``api.logcontext``), but a server that stops answering on an open connection (frozen, or cut
off after it had the query) keeps a driver call waiting without end. A request whose answer
has not begun ``seconds`` after its body was last heard from (a slow upload is not the
store's doing) is answered ``503 store_unavailable``; a command is told
that it may have been recorded (its write may still commit once the store answers again), so
its client resends it under the same ``Idempotency-Key`` to learn what became of it. The
request goes on in its thread and its late answer is dropped; an answer already begun (a
download) is left to finish.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import OVERDUE, store_unavailable_response
from application.errors import StoreUnavailable

log = logging.getLogger("zhanyou.api")


class AnswerWithin:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        overdue = begun = False
        heard = time.monotonic()  # the request's arrival, then its body's last part

        async def hearing() -> Message:
            nonlocal heard
            message = await receive()
            heard = time.monotonic()
            return message

        async def unless_overdue(message: Message) -> None:
            nonlocal begun
            if overdue:
                return  # the client was answered 503 already
            begun = True
            await send(message)

        serving = asyncio.ensure_future(self.app(scope, hearing, unless_overdue))
        try:
            while not (serving.done() or begun) and (left := heard + self.seconds - time.monotonic()) > 0:
                await asyncio.wait({serving}, timeout=left)
        except asyncio.CancelledError:  # the client went away: so does its request
            serving.cancel()
            raise
        if serving.done() or begun:
            await serving
            return
        overdue = True
        scope[OVERDUE] = True  # what the request itself answers later is neither sent nor counted
        serving.add_done_callback(_late)
        detail = f"the store did not answer within {self.seconds:g} s"
        error = StoreUnavailable(detail, may_be_recorded=True)
        answer = store_unavailable_response(Request(scope), detail, "no answer from the store", error)
        await answer(scope, receive, send)


def _late(serving: asyncio.Future[None]) -> None:
    """The request answered 503 has ended: its own outcome goes to the log."""
    if serving.cancelled():
        return
    error = serving.exception()
    if error is not None:
        log.warning(
            "a request answered 503 when overdue ended later with %s", type(error).__name__, exc_info=error
        )
    else:
        log.info("a request answered 503 when overdue ended later")
