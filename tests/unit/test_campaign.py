"""The campaign aggregate: launch, amendments, organiser overrides and the scheduler's record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.campaign import Campaign
from domain.decision import Decision, DecisionContext
from domain.errors import InvalidTimeline, NotPermitted, OutOfOrder, PhaseClosed, ReasonRequired
from domain.lifecycle import Status, decide
from domain.timeline import PhaseCode, PhaseStatus, hubei_2021
from domain.values import GROUP_CAP, Actor, Group
from tests.builders import ADMIN, JUDGE, PUBLIC
from tests.unit.helpers import AUDITOR, SCHEDULER_ACTOR, WUHAN, launched, sh, staff

P = PhaseCode


def names(events: Any) -> list[str]:
    return [type(e).__name__ for e in events]


def edges(events: Any) -> list[tuple[str, str, str]]:
    return [(type(e).__name__, e.code, e.by) for e in events]


# --- launch --------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [staff(), JUDGE, PUBLIC, AUDITOR, SCHEDULER_ACTOR])
def test_only_an_admin_may_launch(actor: Actor) -> None:
    with pytest.raises(NotPermitted, match="only organisers"):
        Campaign.launch(DecisionContext(actor=actor, at=sh(2021, 5, 1)), name="x", timeline=hubei_2021())


def test_launch_records_the_campaign_with_default_quotas_and_caps() -> None:
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)), name="  zhanyou-2021 ", timeline=hubei_2021()
    )
    (launched_event,) = campaign.collect_events()
    assert type(launched_event).__name__ == "CampaignLaunched"
    assert launched_event.decision == Decision(ADMIN, 1)  # type: ignore[attr-defined]
    assert campaign.name == "zhanyou-2021"
    assert campaign.id == Campaign.create_id("zhanyou-2021")
    assert campaign.rule_version == 1
    assert set(campaign.phase_status.values()) == {PhaseStatus.PENDING}
    assert campaign.quota(WUHAN, Group.TRAINEE) == 222
    assert campaign.quota("神农架林区", Group.VETERAN) == 10
    assert campaign.quota(WUHAN, Group.FAMILY) is None
    assert {campaign.cap(g) for g in Group} == {GROUP_CAP}
    assert campaign.timeline == hubei_2021()


def test_launch_takes_custom_quotas_and_caps() -> None:
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
        name="small",
        timeline=hubei_2021(),
        quotas={WUHAN: {Group.TRAINEE: 3, Group.VETERAN: 2}},
        caps=dict.fromkeys(Group, 5),
    )
    assert campaign.quota(WUHAN, Group.VETERAN) == 2
    assert campaign.cap(Group.FAMILY) == 5


def test_a_campaign_needs_a_name() -> None:
    with pytest.raises(InvalidTimeline, match="needs a name"):
        Campaign.launch(DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)), name="  ", timeline=hubei_2021())


# --- amendments ----------------------------------------------------------------------


def test_an_amendment_bumps_the_rule_version_and_records_what_moved_and_why() -> None:
    campaign = launched()
    campaign.amend_timeline(
        {P.FINALS: {"opens": sh(2021, 9, 7), "closes": sh(2021, 9, 9)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason=" venue booked "),
    )
    assert campaign.rule_version == 2
    assert campaign.timeline[P.FINALS].opens == sh(2021, 9, 7)
    (event,) = campaign.collect_events()
    assert type(event).__name__ == "TimelineAmended"
    assert event.decision == Decision(ADMIN, 2, "venue booked")  # type: ignore[attr-defined]
    assert event.changes == {  # type: ignore[attr-defined]
        "finals": {"opens": [sh(2021, 9, 6), sh(2021, 9, 7)], "closes": [sh(2021, 9, 8), sh(2021, 9, 9)]}
    }


@pytest.mark.parametrize("reason", ["", "  "])
def test_an_amendment_needs_a_reason(reason: str) -> None:
    campaign = launched()
    with pytest.raises(ReasonRequired):
        campaign.amend_timeline(
            {P.FINALS: {"opens": sh(2021, 9, 7)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason=reason),
        )
    assert campaign.rule_version == 1
    assert campaign.collect_events() == []


@pytest.mark.parametrize("actor", [staff(), JUDGE, SCHEDULER_ACTOR])
def test_only_an_admin_may_amend(actor: Actor) -> None:
    campaign = launched()
    with pytest.raises(NotPermitted):
        campaign.amend_timeline(
            {P.FINALS: {"opens": sh(2021, 9, 7)}}, DecisionContext(actor=actor, at=sh(2021, 6, 1), reason="r")
        )


def test_an_amendment_that_changes_nothing_is_refused() -> None:
    campaign = launched()
    with pytest.raises(InvalidTimeline, match="changes nothing"):
        campaign.amend_timeline(
            {P.FINALS: {"opens": sh(2021, 9, 6)}}, DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="r")
        )
    assert campaign.rule_version == 1


def test_the_opening_of_a_phase_that_has_opened_cannot_move() -> None:
    campaign = launched()
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 8)))
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.OPEN
    with pytest.raises(InvalidTimeline, match="recommendation has already opened"):
        campaign.amend_timeline(
            {P.RECOMMENDATION: {"opens": sh(2021, 6, 9)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 8), reason="r"),
        )
    # its closing may still move
    campaign.amend_timeline(
        {P.RECOMMENDATION: {"closes": sh(2021, 7, 5)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 8), reason="late lists"),
    )
    assert campaign.timeline[P.RECOMMENDATION].closes == sh(2021, 7, 5)


def test_a_boundary_cannot_be_scheduled_in_the_past() -> None:
    campaign = launched()
    with pytest.raises(InvalidTimeline, match="cannot be scheduled to open in the past"):
        campaign.amend_timeline(
            {P.FINALS: {"opens": sh(2021, 5, 30)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="r"),
        )
    with pytest.raises(InvalidTimeline, match="cannot be scheduled to close in the past"):
        campaign.amend_timeline(
            {P.PUBLICITY: {"closes": sh(2021, 5, 31)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="r"),
        )
    assert campaign.rule_version == 1
    assert campaign.collect_events() == []


def test_an_amendment_moves_the_gate_of_the_moves() -> None:
    campaign = launched()
    late = sh(2021, 7, 3)
    with pytest.raises(PhaseClosed):
        _recommend(campaign, late)
    campaign.amend_timeline(
        {P.RECOMMENDATION: {"closes": sh(2021, 7, 5)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), reason="late lists"),
    )
    assert _recommend(campaign, late) is Status.NOMINATED


def _recommend(campaign: Campaign, at: datetime) -> Status:
    return decide(
        "recommend",
        current=Status.NEW,
        timeline=campaign.timeline,
        actor=staff(),
        at=at,
        city=WUHAN,
        group=Group.VETERAN,
        reason=None,
    )


# --- organiser overrides -------------------------------------------------------------


def test_open_now_opens_an_unannounced_channel_and_moves_its_opening() -> None:
    campaign = launched(hubei_2021())
    at = sh(2021, 6, 20, 9, 30)
    campaign.open_now(P.SELF_REGISTRATION, DecisionContext(actor=ADMIN, at=at, reason="WeChat account ready"))
    events = campaign.collect_events()
    # registration's own opening fell due by date: it is the scheduler's, not the organiser's
    assert edges([events[0], events[2]]) == [
        ("PhaseOpened", "registration", "scheduler"),
        ("PhaseOpened", "self_registration", "organiser"),
    ]
    assert names(events)[1] == "TimelineAmended"
    opened = events[2]
    assert (opened.code, opened.by, opened.scheduled) == ("self_registration", "organiser", None)  # type: ignore[attr-defined]
    assert opened.decision == Decision(ADMIN, 2, "WeChat account ready")  # type: ignore[attr-defined]
    assert campaign.phase_status[P.SELF_REGISTRATION] is PhaseStatus.OPEN
    assert campaign.timeline[P.SELF_REGISTRATION].opens == at
    assert campaign.is_open(P.SELF_REGISTRATION, at)


def test_open_now_early_records_the_scheduled_opening_it_replaced() -> None:
    campaign = launched(hubei_2021())
    at = sh(2021, 7, 8)  # registration closed at 7 Jul 24:00
    campaign.open_now(P.ONLINE_TRAINING, DecisionContext(actor=ADMIN, at=at, reason="platform ready early"))
    _, opened = campaign.collect_events()
    assert opened.scheduled == sh(2021, 7, 10)  # type: ignore[attr-defined]
    assert campaign.timeline[P.ONLINE_TRAINING].opens == at
    assert campaign.timeline[P.CONTEST].opens == sh(2021, 7, 18)  # still derived


def test_open_now_refuses_an_open_phase_a_missing_reason_and_non_admins() -> None:
    campaign = launched()
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 8)))
    with pytest.raises(InvalidTimeline, match="already open"):
        campaign.open_now(P.RECOMMENDATION, DecisionContext(actor=ADMIN, at=sh(2021, 6, 9), reason="r"))
    with pytest.raises(ReasonRequired):
        campaign.open_now(P.FINALS, DecisionContext(actor=ADMIN, at=sh(2021, 6, 9), reason=""))
    with pytest.raises(NotPermitted):
        campaign.open_now(P.FINALS, DecisionContext(actor=staff(), at=sh(2021, 6, 9), reason="r"))


def test_close_now_closes_an_open_phase_and_moves_its_closing() -> None:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 8)))
    campaign.collect_events()
    at = sh(2021, 6, 20, 12)
    campaign.close_now(P.RECOMMENDATION, DecisionContext(actor=ADMIN, at=at, reason="all lists in"))
    amended, closed = campaign.collect_events()
    assert type(amended).__name__ == "TimelineAmended"
    assert type(closed).__name__ == "PhaseClosed"
    assert (closed.code, closed.by, closed.scheduled) == ("recommendation", "organiser", sh(2021, 7, 2))  # type: ignore[attr-defined]
    assert closed.decision == Decision(ADMIN, 2, "all lists in")  # type: ignore[attr-defined]
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.CLOSED
    assert campaign.timeline[P.RECOMMENDATION].closes == at
    assert _recommend(campaign, sh(2021, 6, 20, 11, 59, 59)) is Status.NOMINATED
    with pytest.raises(PhaseClosed, match=r"recommendation closed at 2021-06-20T12:00\+08:00"):
        _recommend(campaign, at)


def test_close_now_refuses_a_phase_that_is_not_open() -> None:
    campaign = launched()
    with pytest.raises(InvalidTimeline, match="it is pending, not open"):
        campaign.close_now(P.FINALS, DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="r"))


# --- the scheduler's record ----------------------------------------------------------


def test_due_boundaries_are_recorded_in_timeline_order_by_the_scheduler() -> None:
    campaign = launched(hubei_2021())
    recorded = campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 7)))
    assert recorded == [
        (P.PUBLICITY, "opens"),
        (P.PUBLICITY, "closes"),
        (P.REGISTRATION, "opens"),
        (P.RECOMMENDATION, "opens"),
    ]
    events = campaign.collect_events()
    assert edges(events) == [
        ("PhaseOpened", "publicity", "scheduler"),
        ("PhaseClosed", "publicity", "scheduler"),
        ("PhaseOpened", "registration", "scheduler"),
        ("PhaseOpened", "recommendation", "scheduler"),
    ]
    scheduled = [e.scheduled for e in events]  # type: ignore[attr-defined]
    assert scheduled == [sh(2021, 5, 24), sh(2021, 6, 7), sh(2021, 6, 7), sh(2021, 6, 7)]
    assert all(e.decision == Decision(SCHEDULER_ACTOR, 1) for e in events)  # type: ignore[attr-defined]
    assert all(e.timestamp == sh(2021, 6, 7) for e in events)
    assert campaign.phase_status[P.PUBLICITY] is PhaseStatus.CLOSED
    assert campaign.phase_status[P.REGISTRATION] is PhaseStatus.OPEN


def test_nothing_is_due_before_the_first_boundary() -> None:
    campaign = launched(hubei_2021())
    assert (
        campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 5, 23, 23, 59, 59)))
        == []
    )
    assert campaign.collect_events() == []


def test_recording_due_boundaries_is_idempotent() -> None:
    campaign = launched(hubei_2021())
    first = campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 25)))
    version = campaign.version
    campaign.collect_events()
    assert first
    assert campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 25))) == []
    assert campaign.collect_events() == []
    assert campaign.version == version


def test_a_whole_campaign_late_is_recorded_open_then_closed_in_order() -> None:
    campaign = launched(hubei_2021())
    recorded = campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 12, 31)))
    expected = [
        (code, side) for _, side, code in hubei_2021().boundaries() if code is not P.SELF_REGISTRATION
    ]
    assert recorded == expected
    for code in PhaseCode:
        if code is not P.SELF_REGISTRATION:
            assert recorded.index((code, "opens")) < recorded.index((code, "closes"))
            assert campaign.phase_status[code] is PhaseStatus.CLOSED
    assert len(campaign.collect_events()) == len(expected)
    assert campaign.phase_status[P.SELF_REGISTRATION] is PhaseStatus.PENDING


def test_a_closed_phase_that_is_extended_is_recorded_open_again() -> None:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 3)))
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.CLOSED
    campaign.collect_events()
    campaign.amend_timeline(
        {P.RECOMMENDATION: {"closes": sh(2021, 7, 6)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 7, 3, 9), reason="two cities late"),
    )
    recorded = campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 3, 9)))
    assert recorded == [(P.RECOMMENDATION, "opens")]
    events = campaign.collect_events()
    assert names(events) == ["TimelineAmended", "PhaseOpened"]
    assert edges(events[1:]) == [("PhaseOpened", "recommendation", "scheduler")]
    assert events[-1].decision.rule_version == 2  # type: ignore[attr-defined]
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.OPEN
    assert campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 5))) == []
    assert campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 7, 6))) == [
        (P.RECOMMENDATION, "closes")
    ]


def test_an_organiser_recording_boundaries_is_marked_as_organiser() -> None:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=ADMIN, at=sh(2021, 5, 24)))
    assert edges(campaign.collect_events()) == [("PhaseOpened", "publicity", "organiser")]


def test_an_opening_that_has_passed_cannot_move_even_before_the_scheduler_records_it() -> None:
    # Gating reads the dates: recommendations were possible from 7 June whether or not the
    # scheduler has recorded the opening yet, so that opening is history.
    campaign = launched(hubei_2021())
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.PENDING
    assert _recommend(campaign, sh(2021, 6, 8)) is Status.NOMINATED
    with pytest.raises(InvalidTimeline, match="recommendation has already opened"):
        campaign.amend_timeline(
            {P.RECOMMENDATION: {"opens": sh(2021, 6, 15)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 10), reason="r"),
        )
    assert campaign.timeline[P.RECOMMENDATION].opens == sh(2021, 6, 7)
    assert campaign.rule_version == 1


def test_close_now_records_an_opening_the_scheduler_has_not_recorded_yet() -> None:
    campaign = launched(hubei_2021())
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.PENDING
    campaign.close_now(
        P.RECOMMENDATION, DecisionContext(actor=ADMIN, at=sh(2021, 6, 20), reason="all lists in")
    )
    events = campaign.collect_events()
    # registration, then the channel inside it: both fell due by date, so both are the scheduler's
    assert names(events) == ["PhaseOpened", "PhaseOpened", "TimelineAmended", "PhaseClosed"]
    assert [(e.code, e.by, e.scheduled) for e in events[:2]] == [  # type: ignore[attr-defined]
        ("registration", "scheduler", sh(2021, 6, 7)),
        ("recommendation", "scheduler", sh(2021, 6, 7)),
    ]
    assert campaign.phase_status[P.RECOMMENDATION] is PhaseStatus.CLOSED


@pytest.mark.parametrize("actor", [staff(), JUDGE, PUBLIC, AUDITOR])
def test_only_the_scheduler_or_an_admin_records_boundaries(actor: Actor) -> None:
    campaign = launched(hubei_2021())
    with pytest.raises(NotPermitted):
        campaign.record_due_boundaries(DecisionContext(actor=actor, at=sh(2021, 6, 8)))
    assert set(campaign.phase_status.values()) == {PhaseStatus.PENDING}


def test_campaign_decisions_cannot_be_dated_before_the_last_recorded_one() -> None:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 8)))
    campaign.collect_events()
    with pytest.raises(OutOfOrder, match="earlier than this campaign's last recorded decision"):
        campaign.amend_timeline(
            {P.FINALS: {"opens": sh(2021, 9, 7)}},
            DecisionContext(actor=ADMIN, at=sh(2021, 6, 7, 23), reason="r"),
        )
    with pytest.raises(OutOfOrder):
        campaign.close_now(P.RECOMMENDATION, DecisionContext(actor=ADMIN, at=sh(2021, 6, 7, 23), reason="r"))
    assert campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 7, 23))) == []
    assert campaign.collect_events() == []
