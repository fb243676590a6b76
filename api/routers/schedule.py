"""The scheduler's plan of a campaign: which boundaries are done, late, overridden or ahead."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request

from api.deps import CurrentActor, ServiceDep
from api.problems import responses
from api.readmodel import node_of
from api.schemas import ScheduledBoundary, ScheduledRetention, ScheduleOut
from domain.values import Role
from ledger.signers import instance_name
from scheduler.plan import plan_of, retention_of

router = APIRouter(prefix="/api/campaigns", tags=["schedule"])


@router.get("/{cid}/schedule", response_model=ScheduleOut, responses=responses(401, 404, 422, 503))
def schedule(
    cid: Annotated[UUID, Path(description="the campaign's id")],
    request: Request,
    service: ServiceDep,
    actor: CurrentActor,
) -> ScheduleOut:
    """Every phase and channel boundary in timeline order, the retention policy's, and which
    scheduler instance is active."""
    campaign = service.get_campaign(cid)
    events = list(service.events.get(cid))
    plan = plan_of(campaign, events)
    retention = retention_of(campaign, events)
    probe = node_of(request).scheduler_probe
    holder = probe.holder()
    return ScheduleOut(
        campaign_id=cid,
        boundaries=[ScheduledBoundary.model_validate(boundary.as_dict()) for boundary in plan],
        retention=ScheduledRetention.model_validate(retention.as_dict()) if retention else None,
        active_instance=holder if actor.role is Role.ADMIN or holder is None else instance_name(holder),
    )
