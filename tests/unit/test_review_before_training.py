"""Training opens only once nominations have closed: who is nominated must still be reviewable."""

from __future__ import annotations

from datetime import date

import pytest

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import InvalidTimeline, InvalidValue, PhaseClosed
from domain.lifecycle import Status, decide
from domain.timeline import PhaseCode, PhaseStatus, Timeline, Window, from_template, hubei_2021
from domain.values import Channel, Group
from tests.builders import ADMIN, PUBLIC
from tests.unit.helpers import SCHEDULER_ACTOR, launched, person, sh, staff

P = PhaseCode
REGISTRATION_ENDS = sh(2021, 7, 8)  # 7 Jul 24:00
JUST_BEFORE = sh(2021, 7, 7, 23, 59, 59)


def _organiser(at: object) -> DecisionContext:
    return DecisionContext(actor=ADMIN, at=at, reason="组委会决定")  # type: ignore[arg-type]


def test_a_timeline_opening_training_before_registration_closes_is_refused_to_the_second() -> None:
    early = hubei_2021().amended({P.ONLINE_TRAINING: {"opens": JUST_BEFORE}})
    with pytest.raises(InvalidTimeline, match=r"online_training cannot open .* while registration is open"):
        early.validated()
    assert hubei_2021().amended({P.ONLINE_TRAINING: {"opens": REGISTRATION_ENDS}}).validated()


def test_an_open_ended_registration_cannot_be_followed_by_training() -> None:
    timeline = hubei_2021().amended({P.REGISTRATION: {"closes": None}, P.SELF_REGISTRATION: {"closes": None}})
    with pytest.raises(InvalidTimeline, match="registration has no closing date"):
        timeline.validated()


def test_an_amendment_moving_training_into_registration_is_refused() -> None:
    campaign = launched(hubei_2021())
    with pytest.raises(InvalidTimeline, match="close registration first or open training later"):
        campaign.amend_timeline({P.ONLINE_TRAINING: {"opens": JUST_BEFORE}}, _organiser(sh(2021, 6, 1)))
    campaign.amend_timeline({P.ONLINE_TRAINING: {"opens": REGISTRATION_ENDS}}, _organiser(sh(2021, 6, 1)))
    assert campaign.timeline[P.ONLINE_TRAINING].opens == REGISTRATION_ENDS


def test_an_amendment_extending_registration_past_training_is_refused() -> None:
    campaign = launched(hubei_2021())
    training = sh(2021, 7, 10)
    late = sh(2021, 7, 10, 0, 0, 1)
    with pytest.raises(InvalidTimeline, match="registration closes at 2021-07-10T00:00:01"):
        campaign.amend_timeline({P.REGISTRATION: {"closes": late}}, _organiser(sh(2021, 6, 1)))
    campaign.amend_timeline({P.REGISTRATION: {"closes": training}}, _organiser(sh(2021, 6, 1)))
    assert campaign.timeline[P.REGISTRATION].closes == training


def test_training_cannot_be_opened_early_while_registration_is_open() -> None:
    campaign = launched(hubei_2021())
    with pytest.raises(InvalidTimeline, match="while registration is open"):
        campaign.open_now(P.ONLINE_TRAINING, _organiser(JUST_BEFORE))
    campaign.open_now(P.ONLINE_TRAINING, _organiser(REGISTRATION_ENDS))
    assert campaign.phase_status[P.ONLINE_TRAINING] is PhaseStatus.OPEN


def test_training_opens_at_the_instant_registration_is_closed_by_hand() -> None:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 8)))
    at = sh(2021, 7, 1, 12)
    campaign.close_now(P.REGISTRATION, _organiser(at))
    campaign.open_now(P.ONLINE_TRAINING, _organiser(at))
    assert campaign.timeline[P.ONLINE_TRAINING].opens == at


def test_no_one_nominated_in_time_misses_the_review() -> None:
    campaign = launched(hubei_2021())
    wuhan = DecisionContext(actor=staff(), at=sh(2021, 7, 1, 23, 59, 59))
    contestant = Contestant.nominate(campaign, person(), Channel.RECOMMENDED, wuhan, person_key="k")
    contestant.verify(campaign, DecisionContext(actor=ADMIN, at=sh(2021, 7, 9, 23, 59, 59)))
    assert contestant.status is Status.VERIFIED


def test_a_campaign_stored_before_the_rule_can_still_be_amended_but_not_further_into_it() -> None:
    overlapping = hubei_2021().amended({P.ONLINE_TRAINING: {"opens": sh(2021, 7, 1)}})
    campaign = Campaign(
        name="stored-earlier",
        timeline=overlapping.to_data(),
        contest_pinned=False,
        template=None,
        quotas={},
        caps={},
        decision=DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)).recorded(1),
        timestamp=sh(2021, 5, 1),
    )
    campaign.amend_timeline({P.FINALS: {"closes": sh(2021, 9, 9)}}, _organiser(sh(2021, 6, 1)))
    with pytest.raises(InvalidTimeline, match="while registration is open"):
        campaign.amend_timeline({P.REGISTRATION: {"closes": sh(2021, 7, 9)}}, _organiser(sh(2021, 6, 2)))
    campaign.amend_timeline(
        {P.REGISTRATION: {"closes": sh(2021, 7, 1)}, P.RECOMMENDATION: {"closes": sh(2021, 7, 1)},
         P.SELF_REGISTRATION: {"closes": sh(2021, 7, 1)}},
        _organiser(sh(2021, 6, 3)),
    )  # fmt: skip
    assert campaign.timeline.validated()


def test_a_channel_that_never_opened_is_closed_once_its_closing_has_passed() -> None:
    past = hubei_2021()  # self-registration never announced, closing 7 Jul 24:00
    assert past[P.SELF_REGISTRATION].status_at(JUST_BEFORE) is PhaseStatus.PENDING
    assert past[P.SELF_REGISTRATION].status_at(REGISTRATION_ENDS) is PhaseStatus.CLOSED
    with pytest.raises(PhaseClosed) as refused:
        decide(
            "register",
            current=Status.NEW,
            timeline=past,
            actor=PUBLIC,
            at=sh(2026, 12, 3),
            city="武汉市",
            group=Group.VETERAN,
            reason=None,
        )
    assert refused.value.detail == "register: self_registration closed at 2021-07-08T00:00+08:00"


@pytest.mark.parametrize("start", [date(1900, 12, 31), date(2100, 9, 8), date(2100, 12, 31)])
def test_a_template_start_that_would_put_a_phase_outside_1901_to_2100_names_the_field(start: date) -> None:
    with pytest.raises(InvalidValue) as refused:
        from_template("hubei-2021", start)
    assert list(refused.value.problems) == ["start"]
    assert "1901-01-01 to 2100-09-07" in refused.value.detail


def test_the_first_and_last_template_starts_keep_beijing_time_and_the_supported_years() -> None:
    opens = from_template("hubei-2021", date(1901, 1, 1)).validated()[P.PUBLICITY].opens
    assert opens is not None
    assert opens.isoformat() == "1901-01-01T00:00:00+08:00"
    last: Timeline = from_template("hubei-2021", date(2100, 9, 7)).validated()
    assert last[P.CEREMONY] == Window(sh(2100, 12, 30), sh(2100, 12, 31))


def test_a_channel_with_no_closing_of_its_own_closes_with_registration_to_the_second() -> None:
    dated = hubei_2021()
    timeline = dated.with_changes(
        {PhaseCode.RECOMMENDATION: Window(opens=dated[PhaseCode.RECOMMENDATION].opens, closes=None)}
    )

    def recommend(at_second: int) -> Status:
        return decide(
            "recommend",
            current=Status.NEW,
            timeline=timeline,
            actor=staff(),
            at=sh(2021, 7, 7, 23, 59, at_second) if at_second < 60 else sh(2021, 7, 8),
            city="武汉市",
            group=Group.TRAINEE,
            reason=None,
        )

    assert recommend(59) is Status.NOMINATED  # 23:59:59 on 7 Jul, registration still open
    with pytest.raises(PhaseClosed, match="recommendation closed at 2021-07-08T00:00"):
        recommend(60)  # 00:00:00 on 8 Jul, when registration closes
