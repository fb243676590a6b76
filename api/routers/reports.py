"""Views of a campaign: roster, quotas, funnel, teams and the audit trail (read from projections)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, IdempotencyDep, Now, ServiceDep
from api.problems import responses
from api.readmodel import MinPosition, ViewsDep, read_after
from api.schemas import (
    AnyInstant,
    AuditEntryOut,
    AuditOut,
    CapEntry,
    FunnelEntry,
    FunnelOut,
    LeaderAppointment,
    LeaderOut,
    Line,
    QuotaEntry,
    QuotasOut,
    RosterEntry,
    RosterOut,
    TeamMember,
    TeamOut,
    TeamsOut,
)
from api.views import masked_entries
from api.workbooks import roster_workbook
from domain.access import require_may_read_audit, require_may_read_reports, roster_city, sees_names
from domain.errors import InvalidValue
from domain.lifecycle import Status
from domain.values import parse_city
from projections.audit import AUDITED, AuditFilter, write_csv, write_xlsx
from projections.roster import RosterRow

router = APIRouter(prefix="/api/campaigns", tags=["reports and teams"])

CampaignId = Annotated[UUID, Path(description="the campaign's id")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIT_PAGE = 1000


@router.get("/{cid}/contestants", response_model=RosterOut, responses=responses(401, 403, 404, 422, 503))
def roster(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
    group: Literal["trainee", "veteran", "family"] | None = None,
    status: Status | None = None,
    platform: Literal["douyin", "kuaishou"] | None = None,
    q: Annotated[
        Line | None,
        Query(
            max_length=64,
            description="part of a name or an account; a whole one when the views are encrypted "
            "(cipher key set)",
        ),
    ] = None,
    sort: Literal["name", "time"] = "name",
    order: Literal["asc", "desc"] = "asc",
    page: int = Query(default=1, ge=1, le=100_000),
    page_size: int = Query(default=50, ge=1, le=1000),
) -> RosterOut:
    """The roster, masked; city staff see their own city only. Pages are stable."""
    limited_to = roster_city(actor, city)
    service.get_campaign(cid)
    read_after(request, response, ["roster"], min_position)
    found = views.roster.query(
        cid, city=limited_to, group=group, status=status.value if status else None, platform=platform,
        search=q, sort=sort,
        descending=order == "desc", page=page, page_size=page_size,
    )  # fmt: skip
    return RosterOut(
        total=found.total, page=found.page, page_size=found.page_size,
        contestants=[_entry(row) for row in found.rows],
    )  # fmt: skip


@router.get(
    "/{cid}/roster.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **responses(401, 403, 404, 422, 503)},
)
def roster_xlsx(
    cid: CampaignId, request: Request, response: Response, service: ServiceDep, views: ViewsDep,
    actor: CurrentActor, min_position: MinPosition = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
) -> Response:  # fmt: skip
    """The roster as a workbook laid out like 附件2, ID and mobile numbers masked."""
    limited_to = roster_city(actor, city)
    campaign = service.get_campaign(cid)
    read_after(request, response, ["roster"], min_position)
    rows: list[RosterRow] = []
    page = 1
    while True:
        found = views.roster.query(cid, city=limited_to, page=page, page_size=1000)
        rows += found.rows
        if len(rows) >= found.total or not found.rows:
            break
        page += 1
    headers = {"Content-Disposition": 'attachment; filename="roster.xlsx"', **_view_headers(response)}
    return Response(roster_workbook(rows, campaign.name), media_type=XLSX, headers=headers)


def _view_headers(response: Response) -> dict[str, str]:
    """A returned file does not carry the injected response's headers: copy the view's position."""
    return {k: v for k, v in response.headers.items() if k.lower().startswith("x-view-")}


@router.get("/{cid}/quotas", response_model=QuotasOut, responses=responses(401, 403, 404, 422, 503))
def quotas(
    cid: CampaignId, request: Request, response: Response, service: ServiceDep, views: ViewsDep,
    actor: CurrentActor, min_position: MinPosition = None,
) -> QuotasOut:  # fmt: skip
    """Per city and group: quota, recommended, verified, remaining; per group: cap, active, remaining."""
    require_may_read_reports(actor)
    service.get_campaign(cid)
    read_after(request, response, ["quotas"], min_position)
    return QuotasOut(
        quotas=[
            QuotaEntry(city=r.city, group=r.group, quota=r.quota, recommended=r.active, verified=r.verified,
                       remaining=r.remaining)
            for r in views.quotas.quotas(cid)
        ],
        groups=[CapEntry(group=r.group, cap=r.cap, active=r.active, remaining=r.remaining)
                for r in views.quotas.caps(cid)],
    )  # fmt: skip


@router.get("/{cid}/funnel", response_model=FunnelOut, responses=responses(401, 403, 404, 422, 503))
def funnel(
    cid: CampaignId, request: Request, response: Response, service: ServiceDep, views: ViewsDep,
    actor: CurrentActor, min_position: MinPosition = None,
) -> FunnelOut:  # fmt: skip
    """How many reached each stage and how many left, per city and group."""
    require_may_read_reports(actor)
    service.get_campaign(cid)
    read_after(request, response, ["funnel"], min_position)
    found = views.funnel.funnel(cid)
    return FunnelOut(
        rows=[FunnelEntry(city=r.city, group=r.group, reached=r.reached, left=r.left, finalists=r.finalists)
              for r in found.rows],
        finalists=found.finalists, trainee_finalists=found.trainee_finalists,
        trainee_share=found.trainee_share,
    )  # fmt: skip


@router.get("/{cid}/teams", response_model=TeamsOut, responses=responses(401, 403, 404, 422, 503))
def teams(
    cid: CampaignId, request: Request, response: Response, service: ServiceDep, views: ViewsDep,
    actor: CurrentActor, min_position: MinPosition = None,
) -> TeamsOut:  # fmt: skip
    """Each city's finals team: leader, assistant, streamers, complete or not."""
    require_may_read_reports(actor)
    service.get_campaign(cid)
    read_after(request, response, ["teams"], min_position)
    named = sees_names(actor)

    def member(contestant_id: UUID, name: str | None) -> TeamMember:
        return TeamMember(id=contestant_id, name=name if named else None)

    return TeamsOut(
        teams=[
            TeamOut(
                city=t.city,
                leader=t.leader_name if named else None,
                assistant=member(t.assistant.contestant_id, t.assistant.name) if t.assistant else None,
                streamers=[member(s.contestant_id, s.name) for s in t.streamers],
                complete=t.complete,
            )
            for t in views.teams.teams(cid)
        ]
    )


@router.get(
    "/{cid}/audit",
    response_model=AuditOut,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **responses(401, 403, 404, 422, 503)},
)
def audit(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
    actor_user: Annotated[Line | None, Query(alias="actor", max_length=64)] = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
    type: Annotated[list[Line] | None, Query(description="event types, e.g. Verified")] = None,
    from_: Annotated[AnyInstant | None, Query(alias="from")] = None,
    to: AnyInstant | None = None,
    after: int = Query(default=0, ge=0, le=2**62),
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response | AuditOut:
    """Every decision with time, actor, reason, evidence and rule version; CSV and .xlsx too."""
    require_may_read_audit(actor)
    service.get_campaign(cid)
    read_after(request, response, ["audit"], min_position)
    unknown = sorted(set(type or ()) - set(AUDITED))
    if unknown:
        raise InvalidValue("type", f"{unknown[0]!r} is not an audited decision ({', '.join(AUDITED)})")
    if from_ is not None and to is not None and from_ > to:
        raise InvalidValue("to", "the time range ends before it starts")
    where = AuditFilter(
        campaign_id=cid, actor=actor_user, city=parse_city(city) if city else None,
        event_types=tuple(type or ()), since=from_, until=to,
    )  # fmt: skip
    if format == "csv":
        out = io.StringIO()
        write_csv(masked_entries(views.audit.entries(where, after=after)), out)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"',
                                 **_view_headers(response)})  # fmt: skip
    if format == "xlsx":
        with tempfile.TemporaryDirectory() as scratch:
            path = FilePath(scratch) / "audit.xlsx"
            write_xlsx(masked_entries(views.audit.entries(where, after=after)), path)
            content = path.read_bytes()
        return Response(content, media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="audit.xlsx"',
                                 **_view_headers(response)})  # fmt: skip
    entries = views.audit.entries(where, limit=AUDIT_PAGE, after=after)
    next_after = entries[-1].notification_id if len(entries) == AUDIT_PAGE else None
    return AuditOut(entries=[AuditEntryOut(**vars(e)) for e in entries], next_after=next_after)


def _entry(row: RosterRow) -> RosterEntry:
    return RosterEntry(
        id=row.contestant_id, city=row.city, group=row.group, channel=row.channel, name=row.name,
        id_number=row.id_number, mobile=row.mobile, platform=row.platform, account=row.account,
        followers=row.followers, status=row.status, training_account=row.training_account,
        results=row.results, team_role=row.team_role, award=row.award, nominated_at=row.nominated_at,
        changed_at=row.changed_at, version=row.version,
    )  # fmt: skip


@router.post(
    "/{cid}/teams/{city}/leader",
    response_model=LeaderOut,
    responses=responses(401, 403, 404, 409, 422, 503),
)
def appoint_leader(
    cid: CampaignId,
    city: Annotated[Line, Path(max_length=32, description="one of the 17 cities of 附件1")],
    body: LeaderAppointment,
    service: ServiceDep,
    actor: CurrentActor,
    now: Now,
    idem: IdempotencyDep,
) -> JSONResponse:
    """The city's finals team leader, a city staff user of that city: organisers or the city's own staff."""

    def decide() -> LeaderOut:
        team_city = parse_city(city)
        service.appoint_team_leader(
            cid, team_city, name=body.name, staff_user=body.staff_user, actor=actor, at=now
        )
        return LeaderOut(city=team_city, leader=body.name.strip(), staff_user=body.staff_user.strip())

    return idem.answer(200, body, decide)
