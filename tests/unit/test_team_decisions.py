"""The decisions on a city's finals team take one decision context, as those on a contestant do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.campaign import Campaign
from domain.decision import Decision, DecisionContext
from domain.errors import NotPermitted, OutOfOrder, TeamIncomplete, VersionConflict
from domain.events import DecisionEvent
from domain.team import CityTeam, TeamRole
from domain.users import User
from domain.values import Actor
from tests.builders import ADMIN, JUDGE
from tests.unit.helpers import WUHAN, launched, sh, staff

PICKED = sh(2021, 9, 2, 10)  # the contest has closed, the finals have not
AWARDED = sh(2021, 9, 15, 20)  # during the finals and the ceremony
LEADER = User.create(
    DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
    username="wuhan-2",
    role="city_staff",
    city=WUHAN,
    token_hash="0" * 64,
)

#: Each team decision, taken on a team of the campaign with a context: (name, instant, decide).
Decide = Callable[[CityTeam, Campaign, DecisionContext], object]
DECISIONS: list[tuple[str, datetime, Decide]] = [
    (
        "appoint leader",
        PICKED,
        lambda team, campaign, context: team.appoint_leader(
            context, name="王科长", staff_user="wuhan-2", appointee=LEADER, rule_version=campaign.rule_version
        ),
    ),
    (
        "enter finals",
        PICKED,
        lambda team, campaign, context: team.enter_finals(campaign.timeline, campaign.rule_version, context),
    ),
    (
        "award team",
        AWARDED,
        lambda team, campaign, context: team.award_team(
            "优秀组织奖", campaign.awards, campaign.timeline, campaign.rule_version, context
        ),
    ),
]
NAMES = [name for name, _, _ in DECISIONS]


def stored_team(campaign: Campaign, *, events: int = 1) -> CityTeam:
    """The Wuhan team as loaded from the store: formed, then given a leader if ``events`` is 2."""
    team = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=sh(2021, 9, 1))
    if events == 2:
        team.appoint_leader(
            DecisionContext(actor=ADMIN, at=sh(2021, 9, 1, 12)),
            name="李科长",
            staff_user="wuhan-2",
            appointee=LEADER,
        )
    team.collect_events()
    return team


def context(at: datetime, **given: Any) -> DecisionContext:
    # an organiser with a reason may take each of the three, the incomplete team's entry too
    return replace(DecisionContext(actor=ADMIN, at=at, reason="经组委会同意"), **given)


@pytest.mark.parametrize(("name", "at", "decide"), DECISIONS, ids=NAMES)
def test_each_records_the_contexts_reason_evidence_and_command_id_under_the_rules_in_force(
    name: str, at: datetime, decide: Decide
) -> None:
    campaign = launched()
    team = stored_team(campaign)
    given = context(at, evidence="组委会纪要 第3号", command_id="cmd-7")

    decide(team, campaign, given)

    recorded = team.pending_events[-1]
    assert isinstance(recorded, DecisionEvent)
    assert recorded.decision == Decision(
        actor=ADMIN,
        rule_version=campaign.rule_version,
        reason="经组委会同意",
        evidence="组委会纪要 第3号",
        command_id="cmd-7",
    )
    assert recorded.timestamp == given.at


@pytest.mark.parametrize(("name", "at", "decide"), DECISIONS, ids=NAMES)
def test_each_is_taken_on_the_version_the_caller_saw_and_refused_on_any_other(
    name: str, at: datetime, decide: Decide
) -> None:
    campaign = launched()
    team = stored_team(campaign, events=2)

    with pytest.raises(VersionConflict) as refused:
        decide(team, campaign, context(at, expected_version=1))
    assert refused.value.rule == "version_conflict"
    assert refused.value.detail == f"{name}: the team is at version 2, not 1; reload and decide again"
    assert team.pending_events == []

    decide(team, campaign, context(at, expected_version=2))
    assert len(team.pending_events) == 1


@pytest.mark.parametrize(("name", "at", "decide"), DECISIONS, ids=NAMES)
def test_a_team_not_formed_yet_is_at_version_0(name: str, at: datetime, decide: Decide) -> None:
    campaign = launched()
    forming = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=at)
    with pytest.raises(VersionConflict) as refused:
        decide(forming, campaign, context(at, expected_version=1))
    assert refused.value.detail == f"{name}: the team is at version 0, not 1; reload and decide again"
    assert len(forming.pending_events) == 1  # only its forming, which is not saved

    for expected in (0, None):
        forming = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=at)
        decide(forming, campaign, context(at, expected_version=expected))
        formed, decided = forming.pending_events
        assert isinstance(formed, CityTeam.TeamFormed)
        assert isinstance(decided, DecisionEvent)


@pytest.mark.parametrize("actor", [JUDGE, staff("黄石市")], ids=["judge", "other city"])
@pytest.mark.parametrize(("name", "at", "decide"), DECISIONS, ids=NAMES)
def test_a_caller_who_may_not_decide_is_told_so_whatever_version_they_name(
    name: str, at: datetime, decide: Decide, actor: Actor
) -> None:
    campaign = launched()
    team = stored_team(campaign)
    with pytest.raises(NotPermitted):
        decide(team, campaign, context(at, actor=actor, expected_version=7))
    assert team.pending_events == []


def test_an_incomplete_team_is_entered_only_with_the_contexts_reason() -> None:
    campaign = launched()
    team = stored_team(campaign)
    with pytest.raises(TeamIncomplete):
        team.enter_finals(campaign.timeline, campaign.rule_version, context(PICKED, reason="  "))
    team.enter_finals(campaign.timeline, campaign.rule_version, context(PICKED))
    entered = team.pending_events[-1]
    assert isinstance(entered, CityTeam.FinalsEntered)
    assert (entered.overridden, entered.decision.reason) == (True, "经组委会同意")
    assert team.entered_finals


@pytest.mark.parametrize(("name", "at", "decide"), DECISIONS, ids=NAMES)
def test_each_is_refused_when_dated_before_the_teams_last_change_and_taken_at_that_instant(
    name: str, at: datetime, decide: Decide
) -> None:
    campaign = launched()
    team = stored_team(campaign)
    team.add(campaign.id, WUHAN, TeamRole.STREAMER, at=at)  # a contestant advanced at that instant
    team.collect_events()

    with pytest.raises(OutOfOrder) as refused:
        decide(team, campaign, context(at - timedelta(microseconds=1), expected_version=2))
    assert refused.value.rule == "out_of_order"
    assert refused.value.detail.startswith(f"{name}: ")
    assert "earlier than this team's last recorded decision" in refused.value.detail
    assert team.pending_events == []

    decide(team, campaign, context(at, expected_version=2))
    assert len(team.pending_events) == 1
