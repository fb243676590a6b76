"""Bulk work: review a list, assign training accounts and record scores from sheets, rankings.

Each item is decided on its own by the same use case a single request calls, and each is
reported; see application/bulk.py.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile

from api.deps import CurrentActor, Now, ServiceDep
from api.problems import responses
from api.readmodel import MinPosition, ViewsDep, read_after
from api.schemas import BulkOut, BulkReview, BulkRowOut, RankedOut, RankingOut, RankingsOut
from application.bulk import BulkReport, ReviewVerdict, assign_training_accounts, record_score_sheet, review
from domain.access import roster_city
from domain.decision import DecisionContext
from domain.values import Group
from projections.ranking import rankings
from projections.roster import RosterRow

router = APIRouter(prefix="/api/campaigns", tags=["bulk work"])

CampaignId = Annotated[UUID, Path(description="the campaign's id")]
Upload = Annotated[UploadFile, File(description=".xlsx (every sheet is read) or .csv")]
_PAGE = 1000


def _out(report: BulkReport) -> BulkOut:
    return BulkOut(counts=report.counts, rows=[BulkRowOut(**asdict(row)) for row in report.rows])


@router.post(
    "/{cid}/bulk/{verdict}",
    response_model=BulkOut,
    responses=responses(401, 403, 404, 409, 422, 503),
)
def bulk_review(
    cid: CampaignId,
    verdict: Annotated[ReviewVerdict, Path(description="verify or reject")],
    body: BulkReview,
    service: ServiceDep,
    actor: CurrentActor,
    now: Now,
) -> BulkOut:
    """Verify or reject a list of contestants with one reason; each decision recorded on its own."""
    context = DecisionContext(actor=actor, at=now, reason=body.reason, evidence=body.evidence)
    return _out(review(service, cid, body.contestants, verdict, context))


@router.post(
    "/{cid}/training-accounts",
    response_model=BulkOut,
    responses=responses(401, 403, 404, 413, 422, 503),
)
def upload_training_accounts(
    cid: CampaignId, file: Upload, service: ServiceDep, actor: CurrentActor, now: Now
) -> BulkOut:
    """A sheet with 选手编号 or 身份证号 and 培训账号 per row: one assignment per row, each reported."""
    content, name = file.file.read(), file.filename or "upload"
    return _out(assign_training_accounts(service, cid, content, name, actor=actor, at=now))


@router.post(
    "/{cid}/scores",
    response_model=BulkOut,
    responses=responses(401, 403, 404, 413, 422, 503),
)
def upload_scores(
    cid: CampaignId, file: Upload, service: ServiceDep, actor: CurrentActor, now: Now
) -> BulkOut:
    """A judges' score sheet: 选手编号 or 身份证号, 短视频制作, 个人直播账号运营, 直播带货 per row."""
    content, name = file.file.read(), file.filename or "upload"
    return _out(record_score_sheet(service, cid, content, name, actor=actor, at=now))


@router.get("/{cid}/rankings", response_model=RankingsOut, responses=responses(401, 403, 404, 422, 503))
def ranking(
    cid: CampaignId,
    request: Request,
    response: Response,
    service: ServiceDep,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
    city: str | None = Query(default=None, max_length=32),
    group: str | None = Query(default=None, max_length=32, description="trainee, veteran, family or 中文"),
) -> RankingsOut:
    """Contestants by total score per city and group, the trainee group first (重点突出学员)."""
    limited_to = roster_city(actor, city)
    service.require_campaign(cid)
    chosen = Group.parse(group).value if group else None
    read_after(request, response, ["roster"], min_position)
    rows: list[RosterRow] = []
    page = 1
    while True:
        found = views.roster.query(cid, city=limited_to, group=chosen, page=page, page_size=_PAGE)
        rows += found.rows
        if len(rows) >= found.total or not found.rows:
            break
        page += 1
    return RankingsOut(
        rankings=[
            RankingOut(
                city=r.city,
                group=r.group.value,
                group_title=r.group.title,
                entries=[
                    RankedOut(
                        rank=e.rank,
                        id=e.row.contestant_id,
                        version=e.row.version,
                        name=e.row.name,
                        status=e.row.status,
                        team_role=e.row.team_role,
                        total=e.total,
                        results=e.row.results or {},
                    )
                    for e in r.entries
                ],
            )
            for r in rankings(rows)
        ]
    )
