"""The views as the API reads them, with read-your-writes.

A write answers with ``X-Log-Position`` (the log's head after it); a read of a view given
``min_position`` waits, at most ``WAIT_SECONDS``, until the view has processed it, and
answers with ``X-View-Position`` and ``X-View-Lag`` (how many notifications it is behind).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated
from uuid import UUID

import anyio.to_thread
from fastapi import Depends, Query, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Now
from api.problems import ApiProblem
from api.readcache import Stamp
from api.schemas import AsOf, read_up_to_now
from application.errors import StoreUnavailable
from application.service import CampaignService
from domain.campaign import Campaign
from node import Node
from projections import Views
from projections.asof import AsOfViews, Replayed
from projections.runner import ProjectionStalled

WAIT_SECONDS = 2.0


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def _views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


ViewsDep = Annotated[Views, Depends(_views)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, le=2**62, description="wait (at most 2 s) until the view has processed this log position"),
]


def _as_of(request: Request) -> AsOfViews:
    return node_of(request).as_of


async def _as_of_views(request: Request) -> AsOfViews:
    return _as_of(request)


AsOfViewsDep = Annotated[AsOfViews, Depends(_as_of_views)]


async def _as_of_query(
    now: Now,
    as_of: Annotated[
        AsOf | None,
        Query(
            description="as it stood at this instant, computed from the log up to it (not from the live "
            "views); a day (2021-06-10) is the end of that day in Asia/Shanghai, today up to now. Not "
            "in the future, not before the campaign was launched"
        ),
    ] = None,
) -> datetime | None:
    return None if as_of is None else read_up_to_now(as_of, now)


#: ``as_of`` as a reading takes it: today (a day written alone) read up to now.
AsOfQuery = Annotated[datetime | None, Depends(_as_of_query)]


def replayed(
    request: Request,
    response: Response,
    campaign_id: UUID,
    as_of: datetime,
    now: datetime,
    *,
    field: str = "as_of",
) -> tuple[Campaign, Replayed]:
    """The campaign and its roster and quotas at ``as_of``; the answer says how far the log was read."""
    service: CampaignService = request.app.state.service
    campaign = service.campaign_as_of(campaign_id, as_of, now=now, field=field)
    found = _as_of(request).at(campaign_id, as_of, now=now)
    response.headers["X-As-Of-Position"] = str(found.head)
    return campaign, found


def read_after(request: Request, response: Response, names: Sequence[str], min_position: int | None) -> int:
    """Wait for the named views to reach ``min_position``; say how far behind they are.

    Answers the views' position (the least of them), read before any of their rows is.
    """
    service: CampaignService = request.app.state.service
    views: Views = request.app.state.views
    runner = node_of(request).projection_runner  # None while another process runs the views
    head: int | None = None  # the log's head is read only when the client asked to wait
    if min_position is not None:
        head = service.last_notification_id()
        if min_position > head:  # waiting could only time out, and the answer would look current
            raise ApiProblem(
                422, "position_ahead_of_log", f"min_position {min_position} is past the log's head ({head})"
            )
        if runner is not None:
            # On time-out answer with what the view has; the headers say how far behind it is.
            with contextlib.suppress(TimeoutError, ProjectionStalled):
                runner.wait(min_position, timeout=WAIT_SECONDS, views=names)
        else:
            deadline = time.monotonic() + WAIT_SECONDS
            while _position(views, service, names) < min_position and time.monotonic() < deadline:
                time.sleep(0.05)
    if runner is not None:  # this process writes the views: its positions are the committed ones
        known = runner.positions()
        position = min(known[name] for name in names)
    else:
        position = _position(views, service, names)
    response.headers["X-View-Position"] = str(position)
    if head is not None:
        response.headers["X-View-Lag"] = str(max(0, service.last_notification_id() - position))
    return position


async def read_view(
    request: Request, response: Response, name: str, campaign_id: UUID, min_position: int | None
) -> Stamp:
    """The campaign known and the view read after ``min_position``: its stamp for ``ReadCache``.

    On the event loop when nothing can wait on the store (this process runs the views, no
    position to wait for, the campaign seen before); on a worker thread otherwise.
    """
    service: CampaignService = request.app.state.service
    views: Views = request.app.state.views

    def known() -> int:
        service.require_campaign(campaign_id)
        return read_after(request, response, [name], min_position)

    runner = node_of(request).projection_runner
    if min_position is None and runner is not None and service.knows_campaign(campaign_id):
        position = known()
    else:
        position = await anyio.to_thread.run_sync(known)
    # read after the position: a switch between the two is then seen by the rows read next
    return (views.by_name[name].generation, position)


def _position(views: Views, service: CampaignService, names: Sequence[str]) -> int:
    return min(views.by_name[name].position(service.name) for name in names)


def withhold_log_position(request: Request) -> None:
    """No log position on this answer: for anonymous callers, who read no views, the head's
    advance would count the events their write made (a new registration's against a repeat's)."""
    request.state.withhold_log_position = True


class LogPosition:
    """Successful writes answer with the log position a read can wait for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return

        async def send_with_position(message: Message) -> None:
            withheld = scope.get("state", {}).get("withhold_log_position", False)
            if message["type"] == "http.response.start" and message["status"] < 400 and not withheld:
                service: CampaignService | None = getattr(scope["app"].state, "service", None)
                if service is not None:
                    try:  # on a worker thread: the event loop never waits on the store
                        position = await anyio.to_thread.run_sync(service.last_notification_id)
                    except StoreUnavailable:
                        position = None
                    if position is not None:
                        message.setdefault("headers", [])
                        message["headers"] = [
                            *message["headers"],
                            (b"x-log-position", str(position).encode()),
                        ]
            await send(message)

        await self.app(scope, receive, send_with_position)
