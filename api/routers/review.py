"""Review beyond the single verdict: who is still unreviewed (reconsidering is a decision route)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import CurrentActor, ServiceDep
from api.problems import ApiProblem, responses
from api.readmodel import MinPosition, ViewsDep, read_after
from api.routers.reports import roster_entry
from api.schemas import RosterOut
from domain.lifecycle import Status
from domain.values import Role

router = APIRouter(tags=["review"])


@router.get(
    "/api/campaigns/{cid}/unreviewed",
    response_model=RosterOut,
    responses=responses(401, 403, 404, 422, 503),
)
def unreviewed(
    cid: Annotated[UUID, Path(description="the campaign's id")],
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=1000, ge=1, le=1000),
) -> RosterOut:
    """Who is nominated and not yet verified or rejected: when training opens, reject them in bulk
    (``POST /api/campaigns/{cid}/bulk/reject`` with one reason) or verify them."""
    if actor.role is not Role.ADMIN:
        raise ApiProblem(403, "not_permitted", f"unreviewed: only organisers (admin) may, not {actor.role}")
    service.require_campaign(cid)
    read_after(request, response, ["roster"], min_position)
    found = views.roster.query(
        cid, status=Status.NOMINATED.value, sort="time", page=page, page_size=page_size
    )
    return RosterOut(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        contestants=[roster_entry(row) for row in found.rows],
    )
