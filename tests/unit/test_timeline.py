"""The 2021 template, the derived contest start, shifting and validating timelines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import InvalidTimeline, PhaseClosed
from domain.lifecycle import Status, decide
from domain.timeline import (
    SHANGHAI,
    PhaseCode,
    PhaseStatus,
    Timeline,
    Window,
    from_template,
    hubei_2021,
    shanghai_text,
)
from domain.values import Channel, Group
from tests.builders import ADMIN, PUBLIC
from tests.unit.helpers import launched, person, sh


def test_the_2021_template_has_the_dates_of_the_notice() -> None:
    timeline = hubei_2021()
    expected = {
        PhaseCode.PUBLICITY: (sh(2021, 5, 24), sh(2021, 6, 7)),
        PhaseCode.REGISTRATION: (sh(2021, 6, 7), sh(2021, 7, 8)),
        PhaseCode.RECOMMENDATION: (sh(2021, 6, 7), sh(2021, 7, 2)),
        PhaseCode.SELF_REGISTRATION: (None, sh(2021, 7, 8)),
        PhaseCode.ONLINE_TRAINING: (sh(2021, 7, 10), sh(2021, 9, 1)),
        PhaseCode.CONTEST: (sh(2021, 7, 20), sh(2021, 9, 1)),
        PhaseCode.OFFLINE_TRAINING: (sh(2021, 9, 3), sh(2021, 9, 5)),
        PhaseCode.FINALS: (sh(2021, 9, 6), sh(2021, 9, 8)),
        PhaseCode.CEREMONY: (sh(2021, 9, 15), sh(2021, 9, 16)),
    }
    assert {code: (w.opens, w.closes) for code, w in timeline.windows.items()} == expected
    assert not timeline.contest_pinned


def test_the_contest_opens_on_the_tenth_day_after_training_opens() -> None:
    timeline = hubei_2021()
    training = timeline[PhaseCode.ONLINE_TRAINING].opens
    assert training == sh(2021, 7, 10)
    assert timeline[PhaseCode.CONTEST].opens == training + timedelta(days=10) == sh(2021, 7, 20)


def test_amending_the_training_start_moves_the_contest_start() -> None:
    campaign = launched(hubei_2021())
    campaign.amend_timeline(
        {PhaseCode.ONLINE_TRAINING: {"opens": sh(2021, 7, 12)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="platform late"),
    )
    assert campaign.timeline[PhaseCode.ONLINE_TRAINING].opens == sh(2021, 7, 12)
    assert campaign.timeline[PhaseCode.CONTEST].opens == sh(2021, 7, 22)
    assert campaign.timeline[PhaseCode.CONTEST].closes == sh(2021, 9, 1)
    assert not campaign.timeline.contest_pinned
    (amended,) = campaign.collect_events()
    assert amended.changes == {  # type: ignore[attr-defined]
        "online_training": {"opens": [sh(2021, 7, 10), sh(2021, 7, 12)]},
        "contest": {"opens": [sh(2021, 7, 20), sh(2021, 7, 22)]},
    }


def test_a_contest_start_set_at_launch_is_pinned() -> None:
    timeline = hubei_2021().amended({PhaseCode.CONTEST: {"opens": sh(2021, 7, 25)}})
    assert timeline.contest_pinned
    campaign = launched(timeline)
    assert campaign.timeline.contest_pinned
    campaign.amend_timeline(
        {PhaseCode.ONLINE_TRAINING: {"opens": sh(2021, 7, 12)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="platform late"),
    )
    assert campaign.timeline[PhaseCode.CONTEST].opens == sh(2021, 7, 25)


def test_a_contest_start_set_by_amendment_stays_pinned() -> None:
    campaign = launched(hubei_2021())
    campaign.amend_timeline(
        {PhaseCode.CONTEST: {"opens": sh(2021, 7, 23)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 1), reason="venue"),
    )
    campaign.amend_timeline(
        {PhaseCode.ONLINE_TRAINING: {"opens": sh(2021, 7, 11)}},
        DecisionContext(actor=ADMIN, at=sh(2021, 6, 2), reason="platform"),
    )
    assert campaign.timeline.contest_pinned
    assert campaign.timeline[PhaseCode.CONTEST].opens == sh(2021, 7, 23)


def test_changing_only_the_contest_close_does_not_pin_its_start() -> None:
    timeline = hubei_2021().amended({PhaseCode.CONTEST: {"closes": sh(2021, 8, 29)}})
    assert not timeline.contest_pinned
    moved = timeline.amended({PhaseCode.ONLINE_TRAINING: {"opens": sh(2021, 7, 11)}})
    assert moved[PhaseCode.CONTEST].opens == sh(2021, 7, 21)
    assert moved[PhaseCode.CONTEST].closes == sh(2021, 8, 29)


def test_a_template_shifted_to_another_start_keeps_midnight_boundaries() -> None:
    shifted = from_template("hubei-2021", start=date(2022, 5, 23))
    original = hubei_2021()
    delta = date(2022, 5, 23) - date(2021, 5, 24)
    assert shifted[PhaseCode.PUBLICITY].opens == sh(2022, 5, 23)
    assert shifted[PhaseCode.ONLINE_TRAINING].opens == sh(2022, 7, 9)
    assert shifted[PhaseCode.CONTEST].opens == sh(2022, 7, 19)
    assert shifted[PhaseCode.CEREMONY].closes == sh(2022, 9, 15)
    for code in PhaseCode:
        for side in ("opens", "closes"):
            before, after = original[code].edge(side), shifted[code].edge(side)
            if before is None:
                assert after is None
                continue
            assert after is not None
            assert after - before == delta
            assert after.astimezone(SHANGHAI).time() == time(0)
    assert shifted[PhaseCode.SELF_REGISTRATION].opens is None


def test_a_template_without_a_start_is_the_notice_itself() -> None:
    assert from_template("hubei-2021") == hubei_2021()


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(InvalidTimeline, match="unknown template 'nope'; known: hubei-2021"):
        from_template("nope")


def test_self_registration_has_no_opening_until_announced() -> None:
    timeline = hubei_2021()
    with pytest.raises(PhaseClosed) as refused:
        decide(
            "register",
            current=Status.NEW,
            timeline=timeline,
            actor=PUBLIC,
            at=sh(2021, 6, 20),
            city="武汉市",
            group=Group.VETERAN,
            reason=None,
        )
    assert refused.value.detail == "register: self_registration has no opening date yet"
    campaign = launched(timeline)
    with pytest.raises(PhaseClosed, match="self_registration has no opening date yet"):
        Contestant.nominate(
            campaign,
            person(),
            Channel.SELF,
            DecisionContext(actor=PUBLIC, at=sh(2021, 6, 20)),
            person_key="k",
        )


def test_the_timeline_is_stored_in_utc_and_read_back_equal() -> None:
    timeline = hubei_2021()
    data = timeline.to_data()
    opens = data["contest"]["opens"]
    assert opens == datetime(2021, 7, 19, 16, tzinfo=UTC)
    assert opens is not None
    assert opens.tzinfo is UTC
    assert Timeline.from_data(data, False) == timeline
    assert data["self_registration"]["opens"] is None


def test_boundaries_come_in_time_order_with_closes_first_at_one_instant() -> None:
    edges = hubei_2021().boundaries()
    assert [e[0] for e in edges] == sorted(e[0] for e in edges)
    at_june_7 = [(side, code) for instant, side, code in edges if instant == sh(2021, 6, 7)]
    assert at_june_7 == [
        ("closes", PhaseCode.PUBLICITY),
        ("opens", PhaseCode.REGISTRATION),
        ("opens", PhaseCode.RECOMMENDATION),
    ]
    assert len(edges) == 2 * len(PhaseCode) - 1  # self-registration has no opening


def test_windows_are_half_open() -> None:
    window = Window(sh(2021, 6, 7), sh(2021, 7, 2))
    assert window.contains(sh(2021, 6, 7))
    assert not window.contains(sh(2021, 7, 2))
    assert window.status_at(sh(2021, 6, 6, 23, 59, 59)) is PhaseStatus.PENDING
    assert window.status_at(sh(2021, 7, 2)) is PhaseStatus.CLOSED
    unannounced = Window(None, sh(2021, 7, 8))
    assert not unannounced.contains(sh(2021, 6, 20))
    assert unannounced.status_at(sh(2021, 7, 7, 23, 59, 59)) is PhaseStatus.PENDING
    assert unannounced.status_at(sh(2021, 7, 8)) is PhaseStatus.CLOSED  # never opened, and over
    assert Window(sh(2021, 6, 7), None).contains(sh(2099, 1, 1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({PhaseCode.FINALS: {"closes": sh(2021, 9, 6)}}, "finals would close"),
        ({PhaseCode.RECOMMENDATION: {"opens": sh(2021, 6, 1)}}, "recommendation cannot open before"),
        ({PhaseCode.SELF_REGISTRATION: {"closes": sh(2021, 7, 9)}}, "self_registration cannot close after"),
        ({PhaseCode.ONLINE_TRAINING: {"opens": sh(2021, 8, 25)}}, "contest would close"),
    ],
)
def test_impossible_timelines_are_refused(
    changes: dict[PhaseCode, dict[str, datetime]], message: str
) -> None:
    with pytest.raises(InvalidTimeline, match=message):
        hubei_2021().amended(changes).validated()  # type: ignore[arg-type]


def test_an_instant_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidTimeline, match="has no time zone"):
        hubei_2021().amended({PhaseCode.FINALS: {"opens": datetime(2021, 9, 5)}}).validated()


def test_a_campaign_launched_from_a_template_reads_its_dates_back() -> None:
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2022, 5, 1)),
        name="zhanyou-2022",
        timeline=from_template("hubei-2021", start=date(2022, 5, 23)),
        template="hubei-2021",
    )
    assert campaign.template == "hubei-2021"
    assert campaign.timeline[PhaseCode.CONTEST].opens == sh(2022, 7, 19)
    assert campaign.is_open(PhaseCode.RECOMMENDATION, sh(2022, 6, 6))
    assert not campaign.is_open(PhaseCode.RECOMMENDATION, sh(2022, 6, 5, 23, 59, 59))


def test_shanghai_text_shows_seconds_only_when_there_are_some() -> None:
    assert shanghai_text(datetime(2021, 7, 1, 16, tzinfo=UTC)) == "2021-07-02T00:00+08:00"
    assert shanghai_text(datetime(2021, 7, 1, 15, 59, 59, tzinfo=UTC)) == "2021-07-01T23:59:59+08:00"
