"""A decision whose campaign changed after it was read is not recorded under the old rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from unittest.mock import patch
from uuid import UUID

import pytest

from application import decisions
from application.bootstrap import build_service
from application.errors import CampaignNotFound, ContestantNotFound
from application.recorders import UNCHANGED, CampaignMoved
from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import PhaseClosed
from domain.timeline import PhaseCode, Side, day_end
from domain.values import Channel
from tests.builders import ADMIN, city_staff, make_person, shanghai
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch, recommend

EARLY_CLOSE: dict[PhaseCode, dict[Side, datetime | None]] = {
    PhaseCode.RECOMMENDATION: {"closes": day_end(date(2021, 6, 9))}
}


def _amend(service: CampaignService, campaign_id: UUID) -> int:
    return service.amend_timeline(
        campaign_id,
        EARLY_CLOSE,
        DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 9, 9), reason="名额已满,提前截止"),
    )


def test_the_insert_is_refused_when_the_campaign_moved_after_the_read(service: CampaignService) -> None:
    campaign_id = launch(service)
    campaign = service.get_campaign(campaign_id)
    person = make_person(1)
    contestant = Contestant.nominate(
        campaign,
        person,
        Channel.RECOMMENDED,
        DecisionContext(actor=city_staff(person.city), at=RECOMMENDING),
        person_key=service.pseudonym(person.id_number.value),
    )
    _amend(service, campaign_id)
    head = service.last_notification_id()
    with pytest.raises(CampaignMoved):
        service.save(contestant, **{UNCHANGED: (campaign.id, campaign.version)})
    assert service.last_notification_id() == head  # nothing written
    fresh = service.get_campaign(campaign_id)
    service.save(
        Contestant.nominate(
            fresh,
            person,
            Channel.RECOMMENDED,
            DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 9, 10)),
            person_key=service.pseudonym(person.id_number.value),
        ),
        **{UNCHANGED: (fresh.id, fresh.version)},
    )
    assert service.last_notification_id() == head + 1


def _amended_right_after_the_first_read(service: CampaignService, change: Any) -> Any:
    """The campaign as a decision reads it, amended by an organiser just after the first read."""
    read = service._decision_campaign
    done: list[bool] = []

    def read_then_amend(campaign_id: UUID, *, as_cached: bool) -> Any:
        campaign = read(campaign_id, as_cached=as_cached)
        if not done:
            done.append(True)
            change(campaign_id)
        return campaign

    return patch.object(service, "_decision_campaign", read_then_amend)


def test_a_nomination_racing_an_amendment_is_decided_again_under_it(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service)
    recommend(service, campaign_id, 2)  # this process now holds the campaign as it was
    _in_another_process(settings, lambda other: _amend(other, campaign_id))
    with pytest.raises(PhaseClosed, match="recommendation closed at 2021-06-10T00:00"):
        recommend(service, campaign_id, 1)
    with pytest.raises(ContestantNotFound):
        service.find_contestant(campaign_id, make_person(1).id_number.value)


def test_a_refusal_under_rules_another_process_changed_is_decided_again(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service)
    _amend(service, campaign_id)
    with pytest.raises(PhaseClosed):
        recommend(service, campaign_id, 1)
    reopen: dict[PhaseCode, dict[Side, datetime | None]] = {
        PhaseCode.RECOMMENDATION: {"closes": day_end(date(2021, 7, 1))}
    }
    _in_another_process(
        settings,
        lambda other: other.amend_timeline(
            campaign_id, reopen, DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 9, 10), reason="延长推荐")
        ),
    )
    contestant_id = recommend(service, campaign_id, 1)
    assert [e.rule_version for e in service.history(contestant_id)] == [3]


def _in_another_process(settings: Settings, change: Callable[[CampaignService], object]) -> None:
    """A change made through a service of its own, as another process would (nothing shared)."""
    other = build_service(settings)
    try:
        change(other)
    finally:
        other.close()


def test_a_verification_racing_an_amendment_carries_the_new_rule_version(service: CampaignService) -> None:
    campaign_id = launch(service)
    contestant_id = recommend(service, campaign_id, 1)
    with _amended_right_after_the_first_read(service, lambda cid: _amend(service, cid)):
        service.decide(contestant_id, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    assert [e.rule_version for e in service.history(contestant_id)] == [1, 2]


def test_a_campaign_once_seen_is_known_without_a_read_and_an_unknown_one_is_refused(
    service: CampaignService,
) -> None:
    campaign_id = launch(service)
    service.get_campaign(campaign_id)
    unknown = UUID("00000000-0000-0000-0000-000000000001")
    with patch.object(service.recorder, "select_events", side_effect=AssertionError("read the store")):
        service.require_campaign(campaign_id)
        with pytest.raises(AssertionError, match="read the store"):
            service.require_campaign(unknown)
    with pytest.raises(CampaignNotFound):
        service.require_campaign(unknown)
