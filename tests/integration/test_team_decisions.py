"""The decisions on a city's finals team, each with its decision context, against the real store."""

from __future__ import annotations

from contextlib import closing
from uuid import UUID

import pytest

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import Decision, DecisionContext
from domain.errors import VersionConflict
from domain.events import DecisionEvent
from tests.builders import ADMIN, city_staff, shanghai
from tests.integration.helpers import LAUNCH, launch

WUHAN = "武汉市"
PICKED = shanghai(2021, 9, 2, 10)
AWARDED = shanghai(2021, 9, 15, 20)
OVERRIDE = "缺一名助理，经组委会同意"


def with_leader(service: CampaignService) -> UUID:
    """A campaign whose Wuhan team is formed and has its leader: the team is at version 2."""
    campaign_id = launch(service)
    service.create_user("wuhan-2", "city_staff", WUHAN, "0" * 64, DecisionContext(actor=ADMIN, at=LAUNCH))
    service.appoint_team_leader(
        campaign_id,
        WUHAN,
        DecisionContext(actor=city_staff(WUHAN), at=PICKED, command_id="leader-1"),
        name="王科长",
        staff_user="wuhan-2",
    )
    return campaign_id


def test_each_decision_stores_the_contexts_reason_evidence_and_command_id(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = with_leader(service)
    entry = DecisionContext(actor=ADMIN, at=PICKED, reason=OVERRIDE, evidence="纪要3号", command_id="f-1")
    service.enter_team_for_finals(campaign_id, WUHAN, entry)
    award = DecisionContext(actor=ADMIN, at=AWARDED, reason="组织有力", command_id="a-1")
    service.award_team(campaign_id, WUHAN, "优秀组织奖", award)

    with closing(build_service(settings)) as reopened:
        team = reopened.get_team(campaign_id, WUHAN)
        assert team is not None
        decisions = [e.decision for e in reopened.events.get(team.id) if isinstance(e, DecisionEvent)]
    assert decisions == [
        Decision(city_staff(WUHAN), 1, command_id="leader-1"),
        Decision(ADMIN, 1, OVERRIDE, "纪要3号", "f-1"),
        Decision(ADMIN, 1, "组织有力", command_id="a-1"),
    ]
    assert (team.version, team.entered_finals, team.awards) == (4, True, ("优秀组织奖",))


def test_a_decision_on_a_version_the_team_has_moved_past_is_refused_and_nothing_is_stored(
    service: CampaignService,
) -> None:
    campaign_id = with_leader(service)
    stale = DecisionContext(actor=ADMIN, at=PICKED, reason=OVERRIDE, expected_version=1)
    with pytest.raises(VersionConflict, match="the team is at version 2, not 1; reload and decide again"):
        service.enter_team_for_finals(campaign_id, WUHAN, stale)
    team = service.get_team(campaign_id, WUHAN)
    assert team is not None
    assert (team.version, team.entered_finals) == (2, False)

    entered = service.enter_team_for_finals(
        campaign_id, WUHAN, DecisionContext(actor=ADMIN, at=PICKED, reason=OVERRIDE, expected_version=2)
    )
    assert (entered.version, entered.entered_finals) == (3, True)


def test_a_team_not_formed_yet_is_decided_on_only_at_version_0(service: CampaignService) -> None:
    campaign_id = launch(service)
    with pytest.raises(VersionConflict, match="the team is at version 0, not 1"):
        service.award_team(
            campaign_id, WUHAN, "优秀组织奖", DecisionContext(actor=ADMIN, at=AWARDED, expected_version=1)
        )
    assert service.get_team(campaign_id, WUHAN) is None

    service.award_team(
        campaign_id, WUHAN, "优秀组织奖", DecisionContext(actor=ADMIN, at=AWARDED, expected_version=0)
    )
    team = service.get_team(campaign_id, WUHAN)
    assert team is not None
    assert (team.version, team.awards) == (2, ("优秀组织奖",))
