"""Decisions on a city's finals team: its leader, its entry for the finals, its prizes.

Each route keeps its own request model, answer and description in the OpenAPI document; the
city parameter, the problems and the idempotent answer are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import DecisionDep, IdempotencyDep, ServiceDep
from api.idempotency import Idempotency, rendered
from api.problems import responses
from api.schemas import (
    FinalsEntry,
    FinalsEntryOut,
    LeaderAppointment,
    LeaderOut,
    Line,
    TeamAward,
    TeamAwardOut,
)
from domain.team import CityTeam
from domain.values import parse_city

router = APIRouter(prefix="/api/campaigns", tags=["reports and teams"])

CampaignId = Annotated[UUID, Path(description="the campaign's id")]
TeamCity = Annotated[Line, Path(max_length=32, description="one of the 17 cities of 附件1")]
TEAM_PROBLEMS = responses(401, 403, 404, 409, 412, 422, 503)


def _answer(
    idem: Idempotency,
    body: BaseModel,
    city: str,
    decide: Callable[[str], CityTeam],
    render: Callable[[CityTeam], BaseModel],
) -> JSONResponse:
    """``decide`` on the parsed city; the answer, rendered from the team, is kept with its events."""
    return idem.answer(200, body, lambda: render(decide(parse_city(city))), rendered(CityTeam, render))


@router.post("/{cid}/teams/{city}/leader", response_model=LeaderOut, responses=TEAM_PROBLEMS)
def appoint_leader(
    cid: CampaignId,
    city: TeamCity,
    body: LeaderAppointment,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """The city's finals team leader, a city staff user of that city: organisers or the city's own staff."""

    def decide(team_city: str) -> CityTeam:
        return service.appoint_team_leader(
            cid, team_city, context, name=body.name, staff_user=body.staff_user
        )

    def render(team: CityTeam) -> LeaderOut:
        return LeaderOut(city=team.city, leader=body.name.strip(), staff_user=body.staff_user.strip())

    return _answer(idem, body, city, decide, render)


@router.post("/{cid}/teams/{city}/finals", response_model=FinalsEntryOut, responses=TEAM_PROBLEMS)
def enter_finals(
    cid: CampaignId,
    city: TeamCity,
    body: FinalsEntry,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Enter the city's team for the finals; an incomplete team only by an organiser, with a reason."""

    def decide(team_city: str) -> CityTeam:
        return service.enter_team_for_finals(cid, team_city, replace(context, reason=body.reason))

    def render(team: CityTeam) -> FinalsEntryOut:
        gaps = team.gaps
        return FinalsEntryOut(city=team.city, finals="overridden" if gaps else "entered", gaps=gaps)

    return _answer(idem, body, city, decide, render)


@router.post("/{cid}/teams/{city}/awards", response_model=TeamAwardOut, responses=TEAM_PROBLEMS)
def award_team(
    cid: CampaignId,
    city: TeamCity,
    body: TeamAward,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A team prize of the campaign's kinds (e.g. 优秀组织奖) for a city, by organisers."""

    def decide(team_city: str) -> CityTeam:
        return service.award_team(cid, team_city, body.award, replace(context, reason=body.reason))

    def render(team: CityTeam) -> TeamAwardOut:
        return TeamAwardOut(city=team.city, awards=list(team.awards))

    return _answer(idem, body, city, decide, render)
