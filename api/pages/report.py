"""The daily report's figures, read through the same route functions as the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastapi import Request, Response

from api.routers import reports, statistics
from api.schemas import FunnelOut, QuotasOut, TeamsOut
from application.service import CampaignService
from domain.values import CITY_QUOTAS, Actor
from projections import Views

HEADLINE_STAGES = ("nominated", "verified", "trained", "competed", "advanced", "awarded")


@dataclass(frozen=True)
class CityLine:
    city: str
    cells: dict[str, tuple[int, int, int]]  # group -> (quota, recommended, verified)
    team_complete: bool | None  # None: no team yet


@dataclass(frozen=True)
class DailyReport:
    at: datetime
    headline: dict[str, int]
    cities: list[CityLine]
    funnel: FunnelOut
    quotas: QuotasOut
    teams: TeamsOut
    statistics: statistics.StatisticsOut


def daily_report(
    request: Request,
    response: Response,
    cid: UUID,
    service: CampaignService,
    views: Views,
    actor: Actor,
    now: datetime,
) -> DailyReport:
    quotas = reports.current_quotas(cid, request, response, service, views, actor)
    funnel = reports.funnel(cid, request, response, service, views, actor)
    teams = reports.teams(cid, request, response, service, views, actor)
    counts = statistics.statistics(cid, request, response, service, views, actor)
    headline = {stage: sum(row.reached.get(stage, 0) for row in funnel.rows) for stage in HEADLINE_STAGES}
    by_city: dict[str, dict[str, tuple[int, int, int]]] = {city: {} for city in CITY_QUOTAS}
    for q in quotas.quotas:
        by_city.setdefault(q.city, {})[q.group] = (q.quota, q.recommended, q.verified)
    team_of = {t.city: t.complete for t in teams.teams}
    cities = [CityLine(city, cells, team_of.get(city)) for city, cells in by_city.items()]
    return DailyReport(now, headline, cities, funnel, quotas, teams, counts)
