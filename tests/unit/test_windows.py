"""Phase windows at their exact edges, read in Asia/Shanghai, whatever zone the instant is given in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import PhaseClosed
from domain.lifecycle import Status, decide
from domain.timeline import hubei_2021
from domain.values import Actor, Group
from tests.builders import ADMIN, JUDGE
from tests.unit.helpers import sh, staff

TIMELINE = hubei_2021()

# (move, from status, actor, instant, refusal text or None when accepted)
EDGES: list[tuple[str, Status, Actor, datetime, str | None]] = [
    (
        "recommend",
        Status.NEW,
        staff(),
        sh(2021, 6, 6, 23, 59, 59),
        "recommend: recommendation opens at 2021-06-07T00:00+08:00",
    ),
    ("recommend", Status.NEW, staff(), sh(2021, 6, 7), None),
    ("recommend", Status.NEW, staff(), sh(2021, 7, 1, 23, 59, 59), None),
    (
        "recommend",
        Status.NEW,
        staff(),
        sh(2021, 7, 2),
        "recommend: recommendation closed at 2021-07-02T00:00+08:00",
    ),
    (
        "verify",
        Status.NOMINATED,
        ADMIN,
        sh(2021, 6, 6, 23, 59, 59),
        "verify: registration opens at 2021-06-07T00:00+08:00",
    ),
    ("verify", Status.NOMINATED, ADMIN, sh(2021, 6, 7), None),
    ("verify", Status.NOMINATED, ADMIN, sh(2021, 7, 9, 23, 59, 59), None),
    (
        "verify",
        Status.NOMINATED,
        ADMIN,
        sh(2021, 7, 10),
        "verify: online_training opened at 2021-07-10T00:00+08:00",
    ),
    ("reject", Status.NOMINATED, ADMIN, sh(2021, 7, 9, 23, 59, 59), None),
    ("reject", Status.NOMINATED, ADMIN, sh(2021, 7, 10), None),  # the unreviewed, when training opens
    (
        "reject",
        Status.NOMINATED,
        ADMIN,
        sh(2021, 9, 1),
        "reject: online_training opened at 2021-07-10T00:00+08:00; "
        "online_training closed at 2021-09-01T00:00+08:00",
    ),
    (
        "reconsider",
        Status.REJECTED,
        ADMIN,
        sh(2021, 7, 10),
        "reconsider: online_training opened at 2021-07-10T00:00+08:00",
    ),
    (
        "assign_training_account",
        Status.VERIFIED,
        ADMIN,
        sh(2021, 7, 9, 23, 59, 59),
        "assign training account: online_training opens at 2021-07-10T00:00+08:00",
    ),
    ("assign_training_account", Status.VERIFIED, ADMIN, sh(2021, 7, 10), None),
    ("record_training", Status.ENROLLED, JUDGE, sh(2021, 8, 31, 23, 59, 59), None),
    (
        "record_training",
        Status.ENROLLED,
        JUDGE,
        sh(2021, 9, 1),
        "record training: online_training closed at 2021-09-01T00:00+08:00",
    ),
    (
        "record_results",
        Status.TRAINED,
        JUDGE,
        sh(2021, 7, 19, 23, 59, 59),
        "record results: contest opens at 2021-07-20T00:00+08:00",
    ),
    ("record_results", Status.TRAINED, JUDGE, sh(2021, 7, 20), None),
    ("record_results", Status.COMPETED, JUDGE, sh(2021, 8, 31, 23, 59, 59), None),
    (
        "record_results",
        Status.COMPETED,
        JUDGE,
        sh(2021, 9, 1),
        "record results: contest closed at 2021-09-01T00:00+08:00",
    ),
    (
        "advance",
        Status.COMPETED,
        staff(),
        sh(2021, 8, 31, 23, 59, 59),
        "advance: contest closes at 2021-09-01T00:00+08:00",
    ),
    ("advance", Status.COMPETED, staff(), sh(2021, 9, 1), None),
    ("advance", Status.COMPETED, staff(), sh(2021, 9, 5, 23, 59, 59), None),
    ("advance", Status.COMPETED, staff(), sh(2021, 9, 6), "advance: finals opened at 2021-09-06T00:00+08:00"),
    (
        "award",
        Status.ADVANCED,
        ADMIN,
        sh(2021, 9, 5, 23, 59, 59),
        "award: finals opens at 2021-09-06T00:00+08:00; ceremony opens at 2021-09-15T00:00+08:00",
    ),
    ("award", Status.ADVANCED, ADMIN, sh(2021, 9, 6), None),
    ("award", Status.ADVANCED, ADMIN, sh(2021, 9, 7, 23, 59, 59), None),
    (
        "award",
        Status.ADVANCED,
        ADMIN,
        sh(2021, 9, 8),
        "award: finals closed at 2021-09-08T00:00+08:00; ceremony opens at 2021-09-15T00:00+08:00",
    ),
    (
        "award",
        Status.AWARDED,
        ADMIN,
        sh(2021, 9, 14, 23, 59, 59),
        "award: finals closed at 2021-09-08T00:00+08:00; ceremony opens at 2021-09-15T00:00+08:00",
    ),
    ("award", Status.AWARDED, ADMIN, sh(2021, 9, 15), None),
    ("award", Status.AWARDED, ADMIN, sh(2021, 9, 15, 23, 59, 59), None),
    (
        "award",
        Status.AWARDED,
        ADMIN,
        sh(2021, 9, 16),
        "award: finals closed at 2021-09-08T00:00+08:00; ceremony closed at 2021-09-16T00:00+08:00",
    ),
]


def _decide(trigger: str, current: Status, actor: Actor, at: datetime) -> Status:
    return decide(
        trigger,
        current=current,
        timeline=TIMELINE,
        actor=actor,
        at=at,
        city=actor.city or "武汉市",
        group=Group.VETERAN,
        reason="not eligible" if trigger in ("reject", "reconsider") else None,
    )


def _id(case: tuple[str, Status, Actor, datetime, str | None]) -> str:
    trigger, _, _, at, refusal = case
    return f"{trigger}-{at:%m%d-%H%M%S}-{'refused' if refusal else 'accepted'}"


@pytest.mark.parametrize("zone", ["shanghai", "utc"])
@pytest.mark.parametrize(("trigger", "current", "actor", "at", "refusal"), EDGES, ids=map(_id, EDGES))
def test_window_edges(
    trigger: str, current: Status, actor: Actor, at: datetime, refusal: str | None, zone: str
) -> None:
    instant = at.astimezone(UTC) if zone == "utc" else at
    if refusal is None:
        assert _decide(trigger, current, actor, instant) is not Status.NEW
    else:
        with pytest.raises(PhaseClosed) as refused:
            _decide(trigger, current, actor, instant)
        assert refused.value.detail == refusal
        assert refused.value.rule == "phase_closed"


def test_the_same_instant_in_utc_is_judged_the_same() -> None:
    last_second = datetime(2021, 7, 1, 15, 59, 59, tzinfo=UTC)
    closing = datetime(2021, 7, 1, 16, 0, 0, tzinfo=UTC)
    assert last_second == sh(2021, 7, 1, 23, 59, 59)
    assert _decide("recommend", Status.NEW, staff(), last_second) is Status.NOMINATED
    with pytest.raises(PhaseClosed, match=r"recommendation closed at 2021-07-02T00:00\+08:00"):
        _decide("recommend", Status.NEW, staff(), closing)


def test_an_instant_just_before_midnight_utc_is_the_next_morning_in_hubei() -> None:
    # 2021-06-06T16:00Z is already 7 June in Hubei: recommendation is open.
    assert _decide("recommend", Status.NEW, staff(), datetime(2021, 6, 6, 16, tzinfo=UTC)) is Status.NOMINATED
    with pytest.raises(PhaseClosed, match="recommendation opens at"):
        _decide("recommend", Status.NEW, staff(), datetime(2021, 6, 6, 15, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize("trigger", ["withdraw", "disqualify"])
@pytest.mark.parametrize("at", [sh(2021, 1, 1), sh(2021, 8, 15), sh(2030, 1, 1)])
def test_leaving_is_not_gated_by_any_window(trigger: str, at: datetime) -> None:
    result = decide(
        trigger,
        current=Status.NOMINATED,
        timeline=TIMELINE,
        actor=ADMIN,
        at=at,
        city="武汉市",
        group=Group.VETERAN,
        reason="moved abroad",
    )
    assert result in (Status.WITHDRAWN, Status.DISQUALIFIED)
