"""Reads the pages need beside the views' routes: registration counts, one's own status, PII reads."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, ServiceDep
from api.problems import ApiProblem, responses
from api.ratelimit import RateLimiter
from api.readmodel import MinPosition, ViewsDep, read_after, withhold_log_position
from api.routers.campaigns import CampaignId
from api.schemas import LocalInstant
from application.errors import NotFound
from application.registration import status_of
from domain.access import require_may_read_audit, require_may_read_reports
from domain.timeline import SHANGHAI

router = APIRouter(tags=["reports and teams"])


class DayCount(BaseModel):
    day: str = Field(description="the day in Asia/Shanghai, YYYY-MM-DD")
    count: int


class StatisticsOut(BaseModel):
    total: int = Field(description="everyone ever registered or recommended")
    daily: list[DayCount] = Field(description="registrations per day (Asia/Shanghai), oldest first")
    platforms: dict[str, int]
    groups: dict[str, int]
    channels: dict[str, int]
    statuses: dict[str, int]


@router.get(
    "/api/campaigns/{cid}/statistics",
    response_model=StatisticsOut,
    responses=responses(401, 403, 404, 422, 503),
)
def statistics(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
) -> StatisticsOut:
    """Counts only (no person): per day, platform (Douyin/Kuaishou), group, channel and status."""
    require_may_read_reports(actor)
    service.require_campaign(cid)
    read_after(request, response, ["roster"], min_position)
    daily: Counter[str] = Counter()
    platforms: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    for row in views.roster.registrations(cid):
        hour = datetime.strptime(row.utc_hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        daily[hour.astimezone(SHANGHAI).date().isoformat()] += row.count
        platforms[row.platform] += row.count
        groups[row.group] += row.count
        channels[row.channel] += row.count
        statuses[row.status] += row.count
    return StatisticsOut(
        total=sum(daily.values()),
        daily=[DayCount(day=day, count=n) for day, n in sorted(daily.items())],
        platforms=dict(platforms),
        groups=dict(groups),
        channels=dict(channels),
        statuses=dict(statuses),
    )


class StatusLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: UUID = Field(description="the receipt code given on registration")
    id_number: str = Field(min_length=1, max_length=40)


class OwnStatus(BaseModel):
    status: str
    changed_at: LocalInstant


def _lookup_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.lookup_limiter
    return limiter


@router.post(
    "/api/campaigns/{cid}/registrations/status",
    response_model=OwnStatus,
    responses=responses(404, 422, 429, 503),
)
def own_status(cid: CampaignId, body: StatusLookup, request: Request, service: ServiceDep) -> OwnStatus:
    """A registrant's own status, by receipt code and ID number together; nothing else about anyone."""
    withhold_log_position(request)
    _lookup_limiter(request).check(request.client.host if request.client else "unknown")
    try:
        found = status_of(service, cid, body.receipt, body.id_number)
    except NotFound:  # an unknown number and a receipt of someone else's: nothing to probe
        raise ApiProblem(
            404, "not_found", "not_found: no registration has this receipt and ID number"
        ) from None
    return OwnStatus(status=found.status, changed_at=found.changed_at)


class PersonalDataReadOut(BaseModel):
    user: str
    role: str
    city: str | None
    fields: list[str]
    at: LocalInstant
    refused: bool = Field(default=False, description="the read was refused (and is on record all the same)")
    rule: str | None = Field(default=None, description="the refusing rule, e.g. not_permitted")


@router.get(
    "/api/contestants/{id}/pii-reads",
    response_model=list[PersonalDataReadOut],
    responses=responses(401, 403, 404, 422, 503),
    tags=["contestants"],
)
def personal_data_reads(
    id: Annotated[UUID, Path(description="the contestant's id")], service: ServiceDep, actor: CurrentActor
) -> list[PersonalDataReadOut]:
    """Who read this contestant's unmasked numbers, or asked and was refused, when: for auditors and
    organisers, oldest first."""
    require_may_read_audit(actor)
    service.get_contestant(id)
    granted = [PersonalDataReadOut.model_validate(read) for read in service.personal_data_reads(id)]
    refused = [
        PersonalDataReadOut.model_validate({**read, "refused": True})
        for read in service.personal_data_refusals(id)
    ]
    return sorted([*granted, *refused], key=lambda read: read.at)
