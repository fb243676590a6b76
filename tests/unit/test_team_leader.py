"""The finals team leader: an existing city staff user of the team's own city (鄂退役军人办发〔2021〕20号)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.decision import DecisionContext
from domain.errors import InvalidValue, NotPermitted
from domain.team import CityTeam
from domain.users import User
from domain.values import Actor
from tests.builders import ADMIN, JUDGE
from tests.unit.helpers import HUANGSHI, WUHAN, launched, sh, staff

APPOINTED = sh(2021, 9, 2, 10)


def user(username: str, role: str, city: str | None = None) -> User:
    return User.create(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
        username=username,
        role=role,
        city=city,
        token_hash="0" * 64,
    )


def wuhan_team() -> CityTeam:
    return CityTeam(campaign_id=launched().id, city=WUHAN, timestamp=sh(2021, 9, 1))


def appoint(team: CityTeam, staff_user: str, appointee: User | None, actor: Actor = ADMIN) -> None:
    team.appoint_leader(
        DecisionContext(actor=actor, at=APPOINTED), name="王科长", staff_user=staff_user, appointee=appointee
    )


@pytest.mark.parametrize("actor", [ADMIN, staff(WUHAN)])
def test_an_admin_or_the_citys_staff_appoints_a_staff_member_of_that_city(actor: Actor) -> None:
    team = wuhan_team()
    appoint(team, " wuhan-2 ", user("wuhan-2", "city_staff", WUHAN), actor)
    assert team.leader == {"name": "王科长", "staff_user": "wuhan-2"}


def test_a_username_that_names_nobody_is_refused_on_the_staff_user_field() -> None:
    team = wuhan_team()
    with pytest.raises(InvalidValue) as refused:
        appoint(team, "ghost", None)
    assert refused.value.rule == "invalid_value"
    assert refused.value.problems == {"staff_user": "no user is named 'ghost'"}
    assert team.leader is None
    assert not team.pending_events[1:]


@pytest.mark.parametrize("name", ["\u3164", "王\u200b科长", "\u0301"])
def test_a_leaders_name_that_shows_nothing_or_hides_a_character_is_refused(name: str) -> None:
    team = wuhan_team()
    with pytest.raises(InvalidValue) as refused:
        team.appoint_leader(
            DecisionContext(actor=ADMIN, at=APPOINTED),
            name=name,
            staff_user="wuhan-2",
            appointee=user("wuhan-2", "city_staff", WUHAN),
        )
    assert set(refused.value.problems) == {"name"}
    assert team.leader is None


@pytest.mark.parametrize(
    "appointee",
    [
        user("judge-9", "judge"),
        user("admin-9", "admin"),
        user("auditor-9", "auditor"),
        user("leader-9", "leader"),  # leadership (领导) reads reports; it is not bureau staff
        user("huangshi-2", "city_staff", HUANGSHI),
    ],
    ids=lambda u: u.username,
)
def test_only_staff_of_the_teams_own_city_may_lead_it(appointee: User) -> None:
    team = wuhan_team()
    with pytest.raises(InvalidValue) as refused:
        appoint(team, appointee.username, appointee)
    assert refused.value.rule == "invalid_value"
    assert set(refused.value.problems) == {"staff_user"}
    assert f"must be staff of {WUHAN}" in refused.value.detail
    assert team.leader is None


def test_staff_of_another_city_are_told_they_may_not_appoint_not_that_they_may_not_lead() -> None:
    team = wuhan_team()
    with pytest.raises(NotPermitted) as refused:
        appoint(team, "wuhan-2", user("wuhan-2", "city_staff", WUHAN), staff(HUANGSHI))
    assert refused.value.rule == "not_permitted"
    assert refused.value.detail == (
        f"appoint leader: staff of {HUANGSHI} may not appoint the leader of the {WUHAN} team"
    )


@pytest.mark.parametrize("appointee", [None, user("judge-9", "judge")], ids=["nobody", "judge"])
def test_a_caller_who_may_not_appoint_learns_nothing_about_the_appointee(appointee: User | None) -> None:
    for caller in (JUDGE, staff(HUANGSHI)):
        with pytest.raises(NotPermitted):
            appoint(wuhan_team(), "judge-9", appointee, caller)


def test_a_recorded_leader_replays_without_the_user() -> None:
    team = wuhan_team()
    appoint(team, "wuhan-2", user("wuhan-2", "city_staff", WUHAN))
    events = team.collect_events()
    replayed = events[0].mutate(None)
    for event in events[1:]:
        replayed = event.mutate(replayed)
    assert isinstance(replayed, CityTeam)
    assert replayed.leader == {"name": "王科长", "staff_user": "wuhan-2"}


def test_an_appointment_records_a_decision_under_the_rule_version_in_force() -> None:
    team = wuhan_team()
    team.appoint_leader(
        DecisionContext(actor=ADMIN, at=APPOINTED),
        name="王科长",
        staff_user="wuhan-2",
        appointee=user("wuhan-2", "city_staff", WUHAN),
        rule_version=4,
    )
    appointed = team.pending_events[-1]
    assert isinstance(appointed, CityTeam.LeaderAppointed)
    assert (appointed.decision.actor, appointed.decision.rule_version) == (ADMIN, 4)


@pytest.mark.parametrize(("stored", "read"), [({"rule_version": 3}, 3), ({}, None)])
def test_a_version_1_appointment_reads_its_actor_and_rule_version_as_a_decision(
    stored: dict[str, int], read: int | None
) -> None:
    state: dict[str, Any] = {"name": "王科长", "staff_user": "wuhan-2", "actor": ADMIN, **stored}
    CityTeam.LeaderAppointed.upcast_v1_v2(state)
    assert set(state) == {"name", "staff_user", "decision"}
    assert (state["decision"].actor, state["decision"].rule_version) == (ADMIN, read)
