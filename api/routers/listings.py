"""Finding things: the list of campaigns (everyone signed in) and of users (organisers)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Now, ServiceDep
from api.problems import ApiProblem, responses
from api.schemas import CampaignSummary, UserSummary
from application.listing import campaigns, users
from domain.timeline import PhaseCode, PhaseStatus
from domain.values import Role

router = APIRouter(tags=["campaigns"])


@router.get("/api/campaigns", response_model=list[CampaignSummary], responses=responses(401, 503))
def list_campaigns(service: ServiceDep, actor: CurrentActor, now: Now) -> list[CampaignSummary]:
    """Every campaign in launch order, with the phases open now (by the dates)."""
    return [
        CampaignSummary(
            id=campaign.id,
            name=campaign.name,
            template=campaign.template,
            rule_version=campaign.rule_version,
            launched_at=campaign.created_on,
            open_now=[code.value for code in PhaseCode if campaign.status_at(code, now) is PhaseStatus.OPEN],
        )
        for campaign in campaigns(service)
    ]


@router.get(
    "/api/users", response_model=list[UserSummary], tags=["users"], responses=responses(401, 403, 503)
)
def list_users(service: ServiceDep, actor: CurrentActor) -> list[UserSummary]:
    """Every user in creation order (never their tokens): organisers only."""
    if actor.role is not Role.ADMIN:
        raise ApiProblem(403, "not_permitted", f"list users: only organisers (admin) may, not {actor.role}")
    return [UserSummary(username=u.username, role=u.role.value, city=u.city) for u in users(service)]
