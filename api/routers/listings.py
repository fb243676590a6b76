"""Finding things: the list of campaigns (everyone signed in) and of users (organisers)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Now, ServiceDep
from api.problems import responses
from api.schemas import CampaignSummary
from application.listing import campaigns
from domain.timeline import PhaseCode, PhaseStatus

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
