"""The campaign calendar: catching up on passed boundaries, and amendments the gates honour."""

from __future__ import annotations

from contextlib import ExitStack, closing
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import PhaseClosed
from domain.timeline import PhaseCode, PhaseStatus, Side, day_end
from domain.values import SCHEDULER, Actor, Channel
from tests.builders import ADMIN, city_staff, make_person, shanghai
from tests.integration.helpers import LAUNCH, launch, race

P = PhaseCode
UNTIL_TRAINING: list[tuple[PhaseCode, Side]] = [
    (P.PUBLICITY, "opens"),
    (P.PUBLICITY, "closes"),  # 24:00 of 6 Jun: closes come first at one instant
    (P.REGISTRATION, "opens"),
    (P.RECOMMENDATION, "opens"),
    (P.RECOMMENDATION, "closes"),  # 24:00 of 1 Jul
    (P.REGISTRATION, "closes"),  # 24:00 of 7 Jul; self-registration never opened
    (P.ONLINE_TRAINING, "opens"),  # 10 Jul
]
AFTER_TRAINING: list[tuple[PhaseCode, Side]] = [
    (P.CONTEST, "opens"),  # 20 Jul, the 10th day after training opened
    (P.ONLINE_TRAINING, "closes"),  # 24:00 of 31 Aug
    (P.CONTEST, "closes"),
    (P.OFFLINE_TRAINING, "opens"),
    (P.OFFLINE_TRAINING, "closes"),
    (P.FINALS, "opens"),
    (P.FINALS, "closes"),
    (P.CEREMONY, "opens"),
    (P.CEREMONY, "closes"),
]


def _edges(service: CampaignService, campaign_id: UUID) -> list[tuple[str, str, Any]]:
    """The campaign's recorded PhaseOpened/PhaseClosed events: (code, side, scheduled instant)."""
    sides = {"PhaseOpened": "opens", "PhaseClosed": "closes"}
    recorded = [(type(e).__name__, vars(e)) for e in service.events.get(campaign_id)]
    return [(data["code"], sides[name], data["scheduled"]) for name, data in recorded if name in sides]


def test_after_an_outage_every_passed_boundary_is_recorded_once_in_order(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service)
    assert service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=LAUNCH)) == []

    back_up = shanghai(2021, 7, 15, 8)  # the scheduler was down from launch until here
    assert (
        service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=back_up))
        == UNTIL_TRAINING
    )
    assert service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=back_up)) == []
    assert (
        service.record_due_boundaries(
            campaign_id, DecisionContext(actor=SCHEDULER, at=shanghai(2021, 7, 19, 23, 59))
        )
        == []
    )

    campaign = service.get_campaign(campaign_id)
    assert campaign.phase_status[P.ONLINE_TRAINING] is PhaseStatus.OPEN
    assert campaign.phase_status[P.REGISTRATION] is PhaseStatus.CLOSED
    assert campaign.phase_status[P.SELF_REGISTRATION] is PhaseStatus.PENDING
    assert campaign.phase_status[P.CONTEST] is PhaseStatus.PENDING

    # Several scheduler processes catching up at once still record each boundary once.
    with ExitStack() as stack:
        schedulers = [stack.enter_context(closing(build_service(settings))) for _ in range(4)]
        outcomes = race(
            [
                partial(
                    s.record_due_boundaries,
                    campaign_id,
                    DecisionContext(actor=SCHEDULER, at=shanghai(2021, 9, 20)),
                )
                for s in schedulers
            ]
        )
    assert [edge for outcome in outcomes for edge in _as_list(outcome)] == AFTER_TRAINING

    timeline = service.get_campaign(campaign_id).timeline
    assert _edges(service, campaign_id) == [
        (code.value, side, timeline.instant(code, side)) for code, side in UNTIL_TRAINING + AFTER_TRAINING
    ]
    assert service.get_campaign(campaign_id).phase_status == {
        code: PhaseStatus.PENDING if code is P.SELF_REGISTRATION else PhaseStatus.CLOSED for code in PhaseCode
    }


def _as_list(outcome: object) -> list[object]:
    assert isinstance(outcome, list), outcome
    return outcome


def test_an_amended_closing_date_is_what_the_gates_and_the_scheduler_follow(service: CampaignService) -> None:
    campaign_id = launch(service)
    staff = city_staff("武汉市")

    def recommend(seq: int, at_day: int, actor: Actor = staff) -> None:
        at = shanghai(2021, 7, at_day, 12)
        service.nominate(
            campaign_id, make_person(seq), Channel.RECOMMENDED, DecisionContext(actor=actor, at=at)
        )

    with pytest.raises(PhaseClosed, match="recommendation closed at 2021-07-02T00:00"):
        recommend(1, at_day=3)

    extended = day_end(shanghai(2021, 7, 5).date())
    rule_version = service.amend_timeline(
        campaign_id,
        {P.RECOMMENDATION: {"closes": extended}},
        DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 30, 17), reason="部分市州推荐名单延期报送"),
    )
    assert rule_version == 2

    recommend(1, at_day=3)
    recommend(2, at_day=5)
    with pytest.raises(PhaseClosed, match="recommendation closed at 2021-07-06T00:00"):
        recommend(3, at_day=6, actor=ADMIN)
    history = service.history(service.find_contestant(campaign_id, make_person(1).id_number.value).id)
    assert history[0].rule_version == 2

    assert (P.RECOMMENDATION, "closes") not in service.record_due_boundaries(
        campaign_id, DecisionContext(actor=SCHEDULER, at=shanghai(2021, 7, 5, 23, 59))
    )
    assert service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=extended)) == [
        (P.RECOMMENDATION, "closes")
    ]
    assert _edges(service, campaign_id)[-1] == ("recommendation", "closes", extended)
