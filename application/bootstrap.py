"""The composition root: everything is built here from one Settings object."""

from __future__ import annotations

from datetime import UTC, datetime

from application.service import CampaignService
from application.settings import Settings
from application.setup_lock import setup_lock
from application.store_policy import tune_pool_reconnects


def build_service(settings: Settings) -> CampaignService:
    """The service on its store; the store's tables are created when missing, one process at a time."""
    tune_pool_reconnects()
    with setup_lock(settings):
        service = CampaignService(env=settings.eventsourcing_env())
    service.reapply_erasures(datetime.now(UTC))  # a backup restored from before an erasure
    return service
