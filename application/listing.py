"""Lists read straight from the event log: campaigns and users are few, so a scan of their
creation events (filtered by topic in the store) is enough and needs no view."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from eventsourcing.utils import get_topic

from application.service import CampaignService
from domain.campaign import Campaign
from domain.users import User

PAGE = 500


def _created(service: CampaignService, event_class: type[object]) -> Iterator[UUID]:
    topic = get_topic(event_class)
    start = 1
    while True:
        found = service.recorder.select_notifications(start=start, limit=PAGE, topics=[topic])
        for notification in found:
            yield UUID(str(notification.originator_id))
        if len(found) < PAGE:
            return
        start = found[-1].id + 1


def campaigns(service: CampaignService) -> list[Campaign]:
    """Every campaign, in the order they were launched."""
    return [service.get_campaign(campaign_id) for campaign_id in _created(service, Campaign.CampaignLaunched)]


def users(service: CampaignService) -> list[User]:
    """Every user, in the order they were created."""
    return [user for user_id in _created(service, User.UserCreated) if (user := service.get_user(user_id))]
