"""Views of a campaign: roster, quotas, funnel, teams and the audit trail (read from projections)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, TypeAdapter

from api.deps import CurrentActor, Now, ServiceDep
from api.exports import AUDIT_HEADER, AUDIT_WIDTHS, audit_rows, csv_bytes, workbook_bytes
from api.problems import responses
from api.readcache import ReadCache, Stamp
from api.readmodel import AsOfQuery, AsOfViewsDep, MinPosition, ViewsDep, read_after, read_view, replayed
from api.schemas import (
    AsOf,
    AuditEntryOut,
    AuditOut,
    CapEntry,
    FunnelEntry,
    FunnelOut,
    Line,
    QuotaEntry,
    QuotasOut,
    RosterChange,
    RosterDiffOut,
    RosterEntry,
    RosterOut,
    Since,
    TeamMember,
    TeamOut,
    TeamsOut,
    Until,
    read_up_to_now,
)
from api.views import masked_entries
from api.workbooks import roster_workbook
from application.service import CampaignService
from domain.access import require_may_read_audit, require_may_read_reports, roster_city, sees_names
from domain.errors import InvalidValue
from domain.lifecycle import Status
from domain.values import Actor, Group, Platform, parse_city
from projections import Views
from projections.asof import roster_diff
from projections.audit import AUDITED, AuditFilter
from projections.quotas import QuotasView
from projections.roster import RosterRow, RosterView

router = APIRouter(prefix="/api/campaigns", tags=["reports and teams"])

CampaignId = Annotated[UUID, Path(description="the campaign's id")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIT_PAGE = 1000


@router.get("/{cid}/contestants", response_model=RosterOut, responses=responses(401, 403, 404, 422, 503))
async def roster(
    cid: CampaignId,
    request: Request,
    response: Response,
    views: ViewsDep,
    actor: CurrentActor,
    now: Now,
    min_position: MinPosition = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
    group: Annotated[
        Line | None,
        Query(max_length=32, description="trainee, veteran, family, or the Chinese title (退役军人组)"),
    ] = None,
    status: Status | None = None,
    platform: Annotated[
        Line | None, Query(max_length=32, description="douyin (抖音) or kuaishou (快手)")
    ] = None,
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
    as_of: AsOfQuery = None,
) -> RosterOut | Response:
    """The roster, masked; city staff see their own city only. Pages are stable.

    With ``as_of``, the roster as it stood then, computed from the log (``min_position`` does
    not apply); the answer's ``X-As-Of-Position`` is the log position it was read up to.
    """
    limited_to = roster_city(actor, city)

    def filters() -> dict[str, Any]:  # parsed once the campaign is known, as its 404 comes first
        return {
            "city": limited_to,
            "group": Group.parse(group).value if group else None,
            "status": status.value if status else None,
            "platform": Platform.parse(platform).value if platform else None,
            "search": q,
            "sort": sort,
            "descending": order == "desc",
            "page": page,
            "page_size": page_size,
        }

    def listed(roster_view: RosterView, wanted: dict[str, Any]) -> RosterOut:
        found = roster_view.query(cid, **wanted)
        return RosterOut(
            total=found.total,
            page=found.page,
            page_size=found.page_size,
            contestants=[roster_entry(row) for row in found.rows],
        )

    if as_of is not None:
        return await anyio.to_thread.run_sync(
            lambda: listed(replayed(request, response, cid, as_of, now)[1].roster, filters())
        )
    stamp = await read_view(request, response, "roster", cid, min_position)
    wanted = filters()
    # the reader's rights shape the answer only through the city it is limited to; the role
    # is kept beside it all the same. The query is kept as a digest: a search may be a name.
    query = hashlib.sha256(repr(sorted(wanted.items())).encode()).digest()
    key = (cid, actor.role, query)
    return await _kept(request, response, "roster", stamp, key, lambda: listed(views.roster, wanted))


@router.get(
    "/{cid}/contestants/diff", response_model=RosterDiffOut, responses=responses(401, 403, 404, 422, 503)
)
def roster_changes(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    as_of_views: AsOfViewsDep,
    actor: CurrentActor,
    now: Now,
    from_: Annotated[
        AsOf,
        Query(
            alias="from",
            description="the earlier instant; a day (2021-06-10) is the end of that day in Asia/Shanghai, "
            "today up to now",
        ),
    ],
    to: Annotated[
        AsOf | None, Query(description="the later instant (a day: its end, today up to now); default now")
    ] = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
    group: Annotated[
        Line | None,
        Query(max_length=32, description="trainee, veteran, family, or the Chinese title (退役军人组)"),
    ] = None,
) -> RosterDiffOut:
    """The roster between two instants, from the log: who entered, who left, whose status changed.

    Masked like the roster; city staff see their own city only. Both instants follow the rules
    of ``as_of`` (not in the future, not before the campaign was launched).
    """
    limited_to = roster_city(actor, city)
    from_ = read_up_to_now(from_, now)
    until = read_up_to_now(to, now) if to is not None else now
    if from_ > until:
        raise InvalidValue("to", "the range ends before it starts")
    service.campaign_as_of(cid, from_, now=now, field="from")
    service.campaign_as_of(cid, until, now=now, field="to")
    before, after = as_of_views.at_each(cid, [from_, until], now=now)
    response.headers["X-As-Of-Position"] = str(after.head)
    wanted = {"city": limited_to, "group": Group.parse(group).value if group else None}
    found = roster_diff(before.roster.every(cid, **wanted), after.roster.every(cid, **wanted))

    def change(pair: tuple[RosterRow | None, RosterRow]) -> RosterChange:
        earlier, row = pair
        return RosterChange(
            **_listed(row),
            status_from=earlier.status if earlier else None,
            status_to=row.status,
        )

    return RosterDiffOut.model_validate(
        {
            "from": from_,
            "to": until,
            "entered": [change(p) for p in found.entered],
            "left": [change(p) for p in found.left],
            "changed": [change(p) for p in found.changed],
            "unchanged": found.unchanged,
        }
    )


@router.get(
    "/{cid}/roster.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **responses(401, 403, 404, 422, 503)},
)
def roster_xlsx(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    now: Now,
    min_position: MinPosition = None,
    city: Annotated[Line | None, Query(max_length=32)] = None,
    as_of: AsOfQuery = None,
) -> Response:
    """The roster as a workbook laid out like 附件2, ID and mobile numbers masked (as it stood at
    ``as_of``, if given)."""
    limited_to = roster_city(actor, city)
    if as_of is not None:
        campaign, found = replayed(request, response, cid, as_of, now)
        roster_view = found.roster
    else:
        campaign = service.get_campaign(cid)
        read_after(request, response, ["roster"], min_position)
        roster_view = views.roster
    rows = roster_view.every(cid, city=limited_to)
    headers = {"Content-Disposition": 'attachment; filename="roster.xlsx"', **_view_headers(response)}
    return Response(roster_workbook(rows, campaign.name), media_type=XLSX, headers=headers)


def _view_headers(response: Response) -> dict[str, str]:
    """A returned file does not carry the injected response's headers: copy the view's position."""
    return {k: v for k, v in response.headers.items() if k.lower().startswith(("x-view-", "x-as-of-"))}


@router.get("/{cid}/quotas", response_model=QuotasOut, responses=responses(401, 403, 404, 422, 503))
async def quotas(
    cid: CampaignId,
    request: Request,
    response: Response,
    views: ViewsDep,
    actor: CurrentActor,
    now: Now,
    min_position: MinPosition = None,
    as_of: AsOfQuery = None,
) -> QuotasOut | Response:
    """Per city and group: quota, recommended, verified, remaining; per group: cap, active, remaining.

    With ``as_of``, as they stood then, computed from the log (see the roster).
    """
    require_may_read_reports(actor)
    if as_of is not None:
        return await anyio.to_thread.run_sync(
            lambda: quota_fill(replayed(request, response, cid, as_of, now)[1].quotas, cid)
        )
    stamp = await read_view(request, response, "quotas", cid, min_position)
    return await _kept(
        request, response, "quotas", stamp, (cid, actor.role), lambda: quota_fill(views.quotas, cid)
    )


def current_quotas(
    cid: UUID, request: Request, response: Response, service: CampaignService, views: Views, actor: Actor
) -> QuotasOut:
    """The quotas as the route answers them without ``as_of``, for callers on a worker thread."""
    require_may_read_reports(actor)
    service.require_campaign(cid)
    read_after(request, response, ["quotas"], None)
    return quota_fill(views.quotas, cid)


def quota_fill(quota_view: QuotasView, cid: UUID) -> QuotasOut:
    quotas, caps = quota_view.fill(cid)
    return QuotasOut(
        quotas=[
            QuotaEntry(
                city=r.city,
                group=r.group,
                quota=r.quota,
                recommended=r.active,
                verified=r.verified,
                remaining=r.remaining,
            )
            for r in quotas
        ],
        groups=[CapEntry(group=r.group, cap=r.cap, active=r.active, remaining=r.remaining) for r in caps],
    )


Answer = TypeVar("Answer", bound=BaseModel)
_BODIES: dict[str, TypeAdapter[Any]] = {"roster": TypeAdapter(RosterOut), "quotas": TypeAdapter(QuotasOut)}


async def _kept(
    request: Request,
    response: Response,
    view: str,
    stamp: Stamp,
    key: Hashable,
    read: Callable[[], Answer],
) -> Answer | Response:
    """The body kept for ``key`` at the view's ``stamp``, or ``read()`` on a worker thread (then kept).

    Serialised as FastAPI serialises the route's response model, so a kept body is the very
    bytes an unkept one would be.
    """
    cache: ReadCache = request.app.state.read_cache
    if not cache.enabled:
        return await anyio.to_thread.run_sync(read)
    body = await cache.answer(view, stamp, key, lambda: _BODIES[view].dump_json(read(), by_alias=True))
    return Response(body, media_type="application/json", headers=_view_headers(response))


@router.get("/{cid}/funnel", response_model=FunnelOut, responses=responses(401, 403, 404, 422, 503))
def funnel(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
) -> FunnelOut:
    """How many reached each stage and how many left, per city and group."""
    require_may_read_reports(actor)
    service.require_campaign(cid)
    read_after(request, response, ["funnel"], min_position)
    found = views.funnel.funnel(cid)
    return FunnelOut(
        rows=[
            FunnelEntry(city=r.city, group=r.group, reached=r.reached, left=r.left, finalists=r.finalists)
            for r in found.rows
        ],
        finalists=found.finalists,
        trainee_finalists=found.trainee_finalists,
        trainee_share=found.trainee_share,
    )


@router.get("/{cid}/teams", response_model=TeamsOut, responses=responses(401, 403, 404, 422, 503))
def teams(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
) -> TeamsOut:
    """Each city's finals team: leader, assistant, streamers, complete or not."""
    require_may_read_reports(actor)
    service.require_campaign(cid)
    read_after(request, response, ["teams"], min_position)
    named = sees_names(actor)

    def member(contestant_id: UUID, name: str | None) -> TeamMember:
        return TeamMember(id=contestant_id, name=name if named else None)

    return TeamsOut(
        teams=[
            TeamOut(
                city=t.city,
                version=t.version,
                leader=t.leader_name if named else None,
                assistant=member(t.assistant.contestant_id, t.assistant.name) if t.assistant else None,
                streamers=[member(s.contestant_id, s.name) for s in t.streamers],
                complete=t.complete,
                gaps=t.gaps,
                awards=t.awards.split("、") if t.awards else [],
                finals=t.finals,  # type: ignore[arg-type]  # the view stores only these two words
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
    from_: Annotated[
        Since | None,
        Query(alias="from", description="from this instant (a day: from its 00:00, Asia/Shanghai)"),
    ] = None,
    to: Annotated[
        Until | None,
        Query(description="before this instant (a day: through its end); no zone: Asia/Shanghai"),
    ] = None,
    after: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=AUDIT_PAGE, ge=1, le=AUDIT_PAGE, description="entries per page (JSON)"),
    format: Literal["json", "csv", "xlsx"] = "json",
) -> Response | AuditOut:
    """Every decision with time, actor, reason, evidence and rule version; CSV and .xlsx too."""
    require_may_read_audit(actor)
    campaign = service.get_campaign(cid)
    # exports name the people, read from the roster: both views are waited for
    read_after(request, response, ["audit"] if format == "json" else ["audit", "roster"], min_position)
    unknown = sorted(set(type or ()) - set(AUDITED))
    if unknown:
        raise InvalidValue("type", f"{unknown[0]!r} is not an audited decision ({', '.join(AUDITED)})")
    if from_ is not None and to is not None and from_ > to:
        raise InvalidValue("to", "the time range ends before it starts")
    where = AuditFilter(
        campaign_id=cid,
        actor=actor_user,
        city=parse_city(city) if city else None,
        event_types=tuple(type or ()),
        since=from_,
        until=to,
    )
    if format in ("csv", "xlsx"):
        # For clerks: Chinese headers and event names, Beijing time, names where ids were.
        rows = list(
            audit_rows(
                masked_entries(views.audit.entries(where, after=after)),
                names=views.roster.names(cid),
                campaign_name=campaign.name,
                named=sees_names(actor),
            )
        )
        if format == "csv":
            content, media = csv_bytes(AUDIT_HEADER, rows), "text/csv; charset=utf-8"
        else:
            content, media = workbook_bytes("审计记录", AUDIT_HEADER, rows, AUDIT_WIDTHS), XLSX
        disposition = f'attachment; filename="audit.{format}"'
        return Response(
            content, media_type=media, headers={"Content-Disposition": disposition, **_view_headers(response)}
        )
    entries = views.audit.entries(where, limit=limit, after=after)
    next_after = entries[-1].notification_id if len(entries) == limit else None
    return AuditOut(entries=[AuditEntryOut.model_validate(vars(e)) for e in entries], next_after=next_after)


def _listed(row: RosterRow) -> dict[str, Any]:
    return {"id": row.contestant_id, **{name: getattr(row, name) for name in _LISTED}}


_LISTED = ("city", "group", "channel", "name", "id_number", "mobile", "platform", "account")


def roster_entry(row: RosterRow) -> RosterEntry:
    return RosterEntry(
        **_listed(row),
        followers=row.followers,
        status=row.status,
        training_account=row.training_account,
        results=row.results,
        team_role=row.team_role,
        award=row.award,
        nominated_at=datetime.fromisoformat(row.nominated_at),
        changed_at=datetime.fromisoformat(row.changed_at),
        version=row.version,
    )
