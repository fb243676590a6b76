"""Decisions read the cached campaign itself, not a copy: none of them may leave it changed."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate

from application import decisions
from application.decisions import ContestantCommand
from application.repository import LentAggregateChanged
from application.service import CampaignService
from domain.campaign import Campaign
from domain.decision import DecisionContext
from domain.errors import NotPermitted, PhaseClosed, QuotaFull
from domain.timeline import PhaseCode
from domain.values import Group
from tests.builders import ADMIN, city_staff, shanghai
from tests.integration.helpers import REVIEWING, launch, recommend


def _cached(service: CampaignService, campaign_id: UUID) -> Campaign:
    cache = service.repository.cache
    assert cache is not None
    found = cache.get(campaign_id)
    assert isinstance(found, Campaign)
    return found


def _as_stored(service: CampaignService, campaign_id: UUID) -> dict[str, Any]:
    stored = project_aggregate(None, service.events.get(campaign_id))
    return vars(stored)


def test_refused_and_failed_decisions_leave_the_cached_campaign_as_stored(service: CampaignService) -> None:
    campaign_id = launch(service, quotas={"武汉市": {Group.TRAINEE: 1, Group.VETERAN: 1}})
    first = recommend(service, campaign_id, 1)
    cached = _cached(service, campaign_id)
    with pytest.raises(QuotaFull):
        recommend(service, campaign_id, 2)
    with pytest.raises(PhaseClosed):
        recommend(service, campaign_id, 3, at=shanghai(2021, 7, 5, 9))
    with pytest.raises(NotPermitted):
        service.decide(first, decisions.VERIFY, DecisionContext(actor=city_staff("宜昌市"), at=REVIEWING))
    with (
        patch("application.service.free_places", side_effect=RuntimeError("failed mid-decision")),
        pytest.raises(RuntimeError),
    ):
        service.decide(first, decisions.REJECT, DecisionContext(actor=ADMIN, at=REVIEWING, reason="不符"))
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    assert _cached(service, campaign_id) is cached  # lent every time, never copied
    assert vars(cached) == _as_stored(service, campaign_id)


def test_a_decision_that_changes_the_campaign_it_reads_saves_nothing_and_the_cache_drops_it(
    service: CampaignService,
) -> None:
    campaign_id = launch(service)
    contestant_id = recommend(service, campaign_id, 1)
    lent = _cached(service, campaign_id)

    def verify_and_close_review(
        contestant: Any, campaign: Campaign, context: DecisionContext, _: Any
    ) -> list[Any]:
        contestant.verify(campaign, context)
        campaign.close_now(PhaseCode.RECOMMENDATION, context)  # a bug: a decision only reads its campaign
        return []

    head = service.last_notification_id()
    with pytest.raises(LentAggregateChanged):
        service.decide(
            contestant_id,
            ContestantCommand("verify", verify_and_close_review),
            DecisionContext(actor=ADMIN, at=REVIEWING, reason="提前截止"),
        )
    assert service.last_notification_id() == head
    assert not service.knows_campaign(campaign_id)
    service.decide(contestant_id, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    assert _cached(service, campaign_id) is not lent
    assert vars(_cached(service, campaign_id)) == _as_stored(service, campaign_id)
