"""The contestant aggregate: decisions, their record, and replay that never re-checks rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NoReturn, cast

import pytest

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import Decision, DecisionContext
from domain.errors import (
    InvalidTransition,
    InvalidValue,
    NotPermitted,
    OutOfOrder,
    PhaseClosed,
    TeamCityMismatch,
    TeamFull,
    VersionConflict,
)
from domain.lifecycle import Status
from domain.team import CityTeam, TeamRole
from domain.timeline import PhaseCode
from domain.users import User
from domain.values import Actor, Channel, Group
from tests.builders import ADMIN, JUDGE, PUBLIC
from tests.unit.helpers import HUANGSHI, WUHAN, launched, nominated, person, sh, staff

SCORES = {"short_video": 88.5, "account_operation": 90, "livestream_selling": 75.25}


def through_everything(campaign: Campaign) -> tuple[Contestant, CityTeam]:
    """A Wuhan veteran taken from recommendation to an award, each step inside its window."""
    contestant = nominated(campaign, person(serial=7), at=sh(2021, 6, 10))
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), evidence="veteran card 123"))
    contestant.assign_training_account(
        campaign, DecisionContext(actor=ADMIN, at=sh(2021, 7, 12)), " px-0007 "
    )
    contestant.record_training(campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 15)))
    contestant.record_results(
        campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 25)), {**SCORES, "short_video": 80}
    )
    contestant.record_results(
        campaign, DecisionContext(actor=JUDGE, at=sh(2021, 8, 1), reason="re-marked"), SCORES
    )
    team = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=sh(2021, 9, 1))
    contestant.advance(campaign, DecisionContext(actor=staff(), at=sh(2021, 9, 2)), team, TeamRole.STREAMER)
    contestant.award_prize(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 15, 20)), " 一等奖 ")
    return contestant, team


def replay(events: Sequence[Any]) -> Contestant:
    aggregate = events[0].mutate(None)
    for event in events[1:]:
        aggregate = event.mutate(aggregate)
    return cast(Contestant, aggregate)


def status_of(contestant: Contestant) -> Status:
    """The current status, read afresh (a plain attribute read would stay narrowed for mypy)."""
    return contestant.status


def _refuse(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("replaying an event must not decide again")


def test_replay_rebuilds_the_same_state_without_rechecking_any_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = launched()
    contestant, _ = through_everything(campaign)
    events = contestant.collect_events()
    assert [type(e).__name__ for e in events] == [
        "Nominated",
        "Verified",
        "TrainingAccountAssigned",
        "Trained",
        "Competed",
        "Competed",
        "Advanced",
        "Awarded",
    ]
    # Every window has closed by now, and no rule may be consulted at all while replaying.
    monkeypatch.setattr("domain.contestant.decide", _refuse)
    with pytest.raises(AssertionError, match="must not decide again"):
        contestant.disqualify(
            campaign, DecisionContext(actor=ADMIN, at=sh(2022, 1, 1), reason="check the patch works")
        )
    rebuilt = replay(events)
    assert rebuilt == contestant
    assert rebuilt is not contestant
    assert rebuilt.version == contestant.version == 8
    assert rebuilt.status is Status.AWARDED
    assert rebuilt.results == SCORES
    assert rebuilt.training_account == "px-0007"
    assert rebuilt.team_role == "streamer"
    assert rebuilt.award == "一等奖"
    assert (rebuilt.name, rebuilt.city, rebuilt.group, rebuilt.channel) == (
        "选手7",
        WUHAN,
        Group.VETERAN,
        Channel.RECOMMENDED,
    )


def test_replay_after_the_campaign_dates_moved_still_rebuilds_the_history() -> None:
    campaign = launched()
    contestant, _ = through_everything(campaign)
    events = contestant.collect_events()
    # The same commands would now be refused: the campaign a year later has none of these windows open.
    later = launched(campaign.timeline.shifted(timedelta(days=365)), name="zhanyou-2022")
    with pytest.raises(PhaseClosed):
        nominated(later, person(serial=7), at=sh(2021, 6, 10))
    with pytest.raises(PhaseClosed):
        replay(events[:1]).verify(later, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20)))
    statuses = [replay(events[: n + 1]).status for n in range(len(events))]
    assert statuses == [
        Status.NOMINATED,
        Status.VERIFIED,
        Status.ENROLLED,
        Status.TRAINED,
        Status.COMPETED,
        Status.COMPETED,
        Status.ADVANCED,
        Status.AWARDED,
    ]
    assert [replay(events[: n + 1]).version for n in range(len(events))] == list(range(1, 9))
    assert replay(events) == contestant


def test_every_decision_records_who_why_and_under_which_rules() -> None:
    campaign = launched()
    campaign.amend_timeline(
        {PhaseCode.FINALS: {"opens": sh(2021, 9, 7)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="venue"),
    )
    contestant = nominated(campaign, at=sh(2021, 6, 10))
    contestant.reject(
        campaign,
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), reason="  not a veteran ", evidence="roster check"),
    )
    nominated_event, rejected = contestant.collect_events()
    assert nominated_event.decision == Decision(staff(), 2)  # type: ignore[attr-defined]
    assert rejected.decision == Decision(ADMIN, 2, "not a veteran", "roster check")  # type: ignore[attr-defined]
    assert rejected.timestamp == sh(2021, 6, 20)
    assert contestant.status is Status.REJECTED


def test_nomination_keeps_the_form_and_derives_the_id() -> None:
    campaign = launched()
    who = person(serial=3, group=Group.FAMILY)
    contestant = Contestant.nominate(
        campaign,
        who,
        Channel.RECOMMENDED,
        DecisionContext(actor=staff(), at=sh(2021, 6, 10)),
        person_key="pseudonym-3",
        unit=" 武汉市退役军人事务局 ",
        contact=" ",
    )
    assert contestant.id == Contestant.create_id(campaign.id, "pseudonym-3")
    assert contestant.id_number == who.id_number.value
    assert contestant.campaign_id == campaign.id
    assert contestant.unit == "武汉市退役军人事务局"
    assert contestant.contact is None
    assert contestant.mobile == "13800000003"
    assert contestant.masked_mobile == "138****0003"
    assert contestant.masked_id_number == who.id_number.value[:6] + "********" + who.id_number.value[-4:]
    assert contestant.experience == "无"
    assert not contestant.holds_quota_place  # families have no city quota


@pytest.mark.parametrize(
    ("channel", "group", "holds"),
    [
        (Channel.RECOMMENDED, Group.TRAINEE, True),
        (Channel.RECOMMENDED, Group.VETERAN, True),
        (Channel.RECOMMENDED, Group.FAMILY, False),
        (Channel.SELF, Group.VETERAN, False),
        (Channel.SELF, Group.FAMILY, False),
    ],
)
def test_who_holds_a_city_quota_place(channel: Channel, group: Group, holds: bool) -> None:
    contestant = nominated(launched(), person(group=group), channel)
    assert contestant.holds_quota_place is holds


def test_staff_cannot_nominate_for_another_city() -> None:
    with pytest.raises(NotPermitted, match="own city"):
        Contestant.nominate(
            launched(),
            person(city=HUANGSHI),
            Channel.RECOMMENDED,
            DecisionContext(actor=staff(WUHAN), at=sh(2021, 6, 10)),
            person_key="k",
        )


def test_the_public_self_registers_but_cannot_recommend() -> None:
    campaign = launched()
    assert nominated(campaign, channel=Channel.SELF).channel is Channel.SELF
    with pytest.raises(NotPermitted):
        Contestant.nominate(
            campaign,
            person(),
            Channel.RECOMMENDED,
            DecisionContext(actor=PUBLIC, at=sh(2021, 6, 10)),
            person_key="k",
        )


# --- results ---------------------------------------------------------------------------


def trained(campaign: Campaign) -> Contestant:
    contestant = nominated(campaign)
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20)))
    contestant.assign_training_account(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 7, 12)), "px-1")
    contestant.record_training(campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 15)))
    contestant.collect_events()
    return contestant


@pytest.mark.parametrize(
    ("scores", "problems"),
    [
        ({**SCORES, "short_video": -1}, {"short_video"}),
        ({"short_video": 1}, {"account_operation", "livestream_selling"}),
        ({**SCORES, "dance": 5}, {"dance"}),
        (
            {"short_video": -0.5, "account_operation": 3, "karaoke": 1},
            {"short_video", "livestream_selling", "karaoke"},
        ),
        ({**SCORES, "livestream_selling": "90"}, {"livestream_selling"}),
        ({**SCORES, "account_operation": math.nan}, {"account_operation"}),
        ({**SCORES, "account_operation": math.inf}, {"account_operation"}),
    ],
)
def test_results_name_every_bad_field(scores: dict[str, Any], problems: set[str]) -> None:
    campaign = launched()
    contestant = trained(campaign)
    with pytest.raises(InvalidValue) as refused:
        contestant.record_results(campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 25)), scores)
    assert set(refused.value.problems) == problems
    for field in problems:
        assert field in refused.value.detail
    assert contestant.status is Status.TRAINED
    assert contestant.collect_events() == []


def test_results_are_kept_as_floats_of_the_three_events() -> None:
    campaign = launched()
    contestant = trained(campaign)
    contestant.record_results(
        campaign,
        DecisionContext(actor=JUDGE, at=sh(2021, 7, 25)),
        {"short_video": 0, "account_operation": 1, "livestream_selling": 2},
    )
    assert contestant.results == {"short_video": 0.0, "account_operation": 1.0, "livestream_selling": 2.0}


def test_empty_training_account_and_award_are_refused() -> None:
    campaign = launched()
    contestant = nominated(campaign)
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20)))
    with pytest.raises(InvalidValue, match="training_account"):
        contestant.assign_training_account(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 7, 12)), "  ")
    with pytest.raises(InvalidValue, match="award"):
        contestant.award_prize(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 6)), " ")


# --- optimistic concurrency ------------------------------------------------------------


def test_a_stale_expected_version_is_refused() -> None:
    campaign = launched()
    contestant = nominated(campaign)
    assert contestant.version == 1
    with pytest.raises(VersionConflict, match="at version 1, not 0"):
        contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), expected_version=0))
    assert status_of(contestant) is Status.NOMINATED
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), expected_version=1))
    assert contestant.version == 2
    with pytest.raises(VersionConflict):
        contestant.withdraw(
            campaign, DecisionContext(actor=staff(), at=sh(2021, 6, 21), reason="ill", expected_version=1)
        )
    assert status_of(contestant) is Status.VERIFIED


def test_a_decision_dated_before_the_last_one_is_refused() -> None:
    campaign = launched()
    contestant = nominated(campaign, at=sh(2021, 6, 20))
    with pytest.raises(OutOfOrder, match="earlier than this contestant's last recorded decision"):
        contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 19, 23, 59, 59)))
    assert status_of(contestant) is Status.NOMINATED
    contestant.verify(
        campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20))
    )  # the same instant is in order
    assert status_of(contestant) is Status.VERIFIED


def test_version_is_checked_before_the_state() -> None:
    campaign = launched()
    contestant = nominated(campaign)
    with pytest.raises(VersionConflict):
        contestant.award_prize(
            campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 6), expected_version=5), "x"
        )
    with pytest.raises(InvalidTransition):
        contestant.award_prize(
            campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 6), expected_version=1), "x"
        )


# --- teams -----------------------------------------------------------------------------


def competed(campaign: Campaign, serial: int, city: str = WUHAN) -> Contestant:
    contestant = nominated(campaign, person(serial=serial, city=city))
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20)))
    contestant.assign_training_account(
        campaign, DecisionContext(actor=ADMIN, at=sh(2021, 7, 12)), f"px-{serial}"
    )
    contestant.record_training(campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 15)))
    contestant.record_results(campaign, DecisionContext(actor=JUDGE, at=sh(2021, 7, 25)), SCORES)
    return contestant


def test_a_team_takes_at_most_six_streamers_and_one_assistant() -> None:
    campaign = launched()
    team = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=sh(2021, 9, 1))
    for serial in range(1, 7):
        competed(campaign, serial).advance(
            campaign, DecisionContext(actor=staff(), at=sh(2021, 9, 2)), team, TeamRole.STREAMER
        )
    assert team.gaps == ["no team leader", "0 assistants, not 1"]  # streamers alone are not a team
    seventh = competed(campaign, 7)
    with pytest.raises(TeamFull, match="already has 6 streamer"):
        seventh.advance(campaign, DecisionContext(actor=staff(), at=sh(2021, 9, 2)), team, TeamRole.STREAMER)
    assert seventh.status is Status.COMPETED
    seventh.advance(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 2)), team, TeamRole.ASSISTANT)
    with pytest.raises(TeamFull, match="already has 1 assistant"):
        competed(campaign, 8).advance(
            campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 2)), team, TeamRole.ASSISTANT
        )
    assert team.count(TeamRole.STREAMER) == 6
    assert team.count(TeamRole.ASSISTANT) == 1


def test_a_contestant_joins_only_their_own_city_team() -> None:
    campaign = launched()
    team = CityTeam(campaign_id=campaign.id, city=HUANGSHI, timestamp=sh(2021, 9, 1))
    contestant = competed(campaign, 1, WUHAN)
    with pytest.raises(TeamCityMismatch):
        contestant.advance(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 9, 2)), team, TeamRole.STREAMER)
    assert contestant.status is Status.COMPETED
    assert team.members == {}


def test_the_team_leader_is_appointed_by_the_citys_own_staff_or_an_admin() -> None:
    campaign = launched()
    team = CityTeam(campaign_id=campaign.id, city=WUHAN, timestamp=sh(2021, 9, 1))
    s1 = User.create(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
        username="s1",
        role="city_staff",
        city=WUHAN,
        token_hash="0" * 64,
    )

    def by(actor: Actor) -> DecisionContext:
        return DecisionContext(actor=actor, at=sh(2021, 9, 2))

    with pytest.raises(NotPermitted):
        team.appoint_leader(by(staff(HUANGSHI)), name="张三", staff_user="s1", appointee=s1)
    with pytest.raises(NotPermitted):
        team.appoint_leader(by(JUDGE), name="张三", staff_user="s1", appointee=s1)
    with pytest.raises(InvalidValue):
        team.appoint_leader(by(staff()), name=" ", staff_user="s1", appointee=s1)
    team.appoint_leader(by(staff()), name=" 张三 ", staff_user="s1", appointee=s1)
    assert team.leader == {"name": "张三", "staff_user": "s1"}
