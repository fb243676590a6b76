"""The composition root: everything is built here from one Settings object."""

from __future__ import annotations

from application.service import CampaignService
from application.settings import Settings


def build_service(settings: Settings) -> CampaignService:
    if not settings.is_postgres:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return CampaignService(env=settings.eventsourcing_env())
