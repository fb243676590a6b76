"""Refusals over HTTP: who may lead a city team, future birth dates, duplicates on each channel."""

from __future__ import annotations

from typing import Any

import pytest
from stdnum.cn import ric

from tests.api.helpers import ADMIN_HEADERS, OWN_CITY, PICKING, Api, form
from tests.builders import id_number

_BORN_2030 = "420102" + "20300101" + "060"
BORN_2030 = _BORN_2030 + ric.calc_check_digit(_BORN_2030 + "0")
MASKED_2030 = BORN_2030[:6] + "*" * 8 + BORN_2030[-4:]


def appoint(api: Api, staff_user: str, who: str = "admin") -> Any:
    api.clock.now = PICKING
    return api.client.post(
        f"/api/campaigns/{api.campaign_id}/teams/武汉/leader",
        json={"name": "王领队", "staff_user": staff_user},
        headers=api.as_(who),
    )


def test_a_username_that_names_nobody_is_refused(api: Api) -> None:
    answer = appoint(api, "ghost-1")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["rule"] == "invalid_value"
    assert problem["errors"] == [{"field": "staff_user", "detail": "no user is named 'ghost-1'"}]


@pytest.mark.parametrize("staff_user", ["judge-1", "admin-1", "leader-1", "huangshi-1"])
def test_only_staff_of_the_teams_city_may_be_appointed(api: Api, staff_user: str) -> None:
    answer = appoint(api, staff_user)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["rule"] == "invalid_value"
    assert problem["errors"] == [
        {
            "field": "staff_user",
            "detail": f"the team leader must be staff of {OWN_CITY}, which {staff_user!r} is not",
        }
    ]


def test_staff_of_another_city_are_told_they_may_not_appoint(api: Api) -> None:
    answer = appoint(api, "wuhan-1", who="other_city_staff")
    assert answer.status_code == 403, answer.text
    assert answer.json()["rule"] == "not_permitted"
    assert (
        answer.json()["detail"]
        == "appoint leader: staff of 黄石市 may not appoint the leader of the 武汉市 team"
    )


def test_the_citys_own_staff_member_is_appointed(api: Api) -> None:
    answer = appoint(api, "wuhan-1")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"city": OWN_CITY, "leader": "王领队", "staff_user": "wuhan-1"}


def test_a_birth_date_in_the_future_is_refused_on_both_channels(api: Api) -> None:
    api.open_self_registration()
    recommended = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        json=form(1, id_number=BORN_2030),
        headers=ADMIN_HEADERS,
    )
    registered = api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(2, group="veteran", id_number=BORN_2030)
    )
    for answer in (recommended, registered):
        assert answer.status_code == 422, answer.text
        assert answer.json()["rule"] == "invalid_value"
        assert answer.json()["errors"] == [
            {"field": "id_number", "detail": f"{MASKED_2030}: the birth date is in the future"}
        ]


def test_staff_still_see_the_masked_id_number_of_a_duplicate(api: Api) -> None:
    api.recommend(5)
    again = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        json=form(5, account="another-handle"),
        headers=api.as_("city_staff"),
    )
    assert again.status_code == 409, again.text
    masked = id_number(5)[:6] + "*" * 8 + id_number(5)[-4:]
    assert again.json()["detail"] == (
        f"nominate: the person with ID number {masked} is already a contestant of this campaign"
    )
