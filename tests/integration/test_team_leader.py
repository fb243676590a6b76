"""Appointing a city's finals team leader against the users in the real store."""

from __future__ import annotations

from contextlib import closing

import pytest

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import InvalidValue, NotPermitted
from tests.builders import ADMIN, city_staff, shanghai
from tests.integration.helpers import LAUNCH, launch

WUHAN, HUANGSHI = "武汉市", "黄石市"
PICKED = shanghai(2021, 9, 2, 10)


def create_users(service: CampaignService) -> None:
    for username, role, city in [
        ("wuhan-2", "city_staff", WUHAN),
        ("huangshi-2", "city_staff", HUANGSHI),
        ("judge-2", "judge", None),
    ]:
        service.create_user(username, role, city, "0" * 64, DecisionContext(actor=ADMIN, at=LAUNCH))


def test_the_leader_is_a_stored_city_staff_user_of_that_city(
    service: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(service)
    create_users(service)
    service.appoint_team_leader(
        campaign_id,
        WUHAN,
        DecisionContext(actor=city_staff(WUHAN), at=PICKED),
        name="王科长",
        staff_user=" wuhan-2 ",
    )
    with closing(build_service(settings)) as reopened:
        team = reopened.get_team(campaign_id, WUHAN)
    assert team is not None
    assert team.leader == {"name": "王科长", "staff_user": "wuhan-2"}


@pytest.mark.parametrize(
    ("staff_user", "problem"),
    [
        ("nobody-9", "no user is named 'nobody-9'"),
        ("judge-2", f"the team leader must be staff of {WUHAN}, which 'judge-2' is not"),
        ("huangshi-2", f"the team leader must be staff of {WUHAN}, which 'huangshi-2' is not"),
    ],
)
def test_anyone_else_is_refused_and_nothing_is_recorded(
    service: CampaignService, staff_user: str, problem: str
) -> None:
    campaign_id = launch(service)
    create_users(service)
    with pytest.raises(InvalidValue) as refused:
        service.appoint_team_leader(
            campaign_id, WUHAN, DecisionContext(actor=ADMIN, at=PICKED), name="王科长", staff_user=staff_user
        )
    assert refused.value.problems == {"staff_user": problem}
    assert service.get_team(campaign_id, WUHAN) is None


def test_staff_of_another_city_may_not_appoint(service: CampaignService) -> None:
    campaign_id = launch(service)
    create_users(service)
    with pytest.raises(NotPermitted, match=f"may not appoint the leader of the {WUHAN} team"):
        service.appoint_team_leader(
            campaign_id,
            WUHAN,
            DecisionContext(actor=city_staff(HUANGSHI), at=PICKED),
            name="王科长",
            staff_user="wuhan-2",
        )
    assert service.get_team(campaign_id, WUHAN) is None
