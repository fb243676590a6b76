"""The scheduler's plan of a campaign: which boundaries are done, late, overridden or ahead."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request

from api.deps import CurrentActor, ServiceDep
from api.problems import responses
from api.readmodel import node_of
from api.schemas import ScheduledBoundary, ScheduleOut
from scheduler.plan import plan_of

router = APIRouter(prefix="/api/campaigns", tags=["schedule"])


@router.get("/{cid}/schedule", response_model=ScheduleOut, responses=responses(401, 404, 422, 503))
def schedule(
    cid: Annotated[UUID, Path(description="the campaign's id")],
    request: Request,
    service: ServiceDep,
    actor: CurrentActor,
) -> ScheduleOut:
    """Every phase and channel boundary in timeline order, and which scheduler instance is active."""
    campaign = service.get_campaign(cid)
    plan = plan_of(campaign, service.events.get(cid))
    probe = node_of(request).scheduler_probe
    return ScheduleOut(
        campaign_id=cid,
        boundaries=[ScheduledBoundary.model_validate(boundary.as_dict()) for boundary in plan],
        active_instance=probe.holder(),
    )
