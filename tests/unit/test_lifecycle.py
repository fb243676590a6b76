"""The transition table: every move allowed where the table says, refused everywhere else."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain.contestant import EVENT_OF_MOVE
from domain.errors import GroupNotAllowed, InvalidTransition, NotPermitted, ReasonRequired
from domain.lifecycle import MOVES, Move, Status, allowed_moves, decide, diagram
from domain.timeline import Timeline
from domain.values import Actor, Group, Role
from tests.builders import ADMIN, JUDGE, PUBLIC
from tests.unit.helpers import (
    HUANGSHI,
    WUHAN,
    actor_for,
    move,
    reachable_statuses,
    self_registration_open,
    sh,
    staff,
)

TIMELINE = self_registration_open()
REASON = "documented in the case file"


def inside(m: Move, timeline: Timeline = TIMELINE) -> datetime:
    """An instant an hour into the move's first gate; moves without gates: any day."""
    if not m.gates:
        return sh(2021, 8, 15, 10)
    start = m.gates[0].start
    opens = timeline.instant(start.code, start.side)
    assert opens is not None
    return opens + timedelta(hours=1)


def run(
    trigger: str,
    current: Status,
    actor: Actor,
    *,
    at: datetime | None = None,
    city: str = WUHAN,
    group: Group = Group.VETERAN,
    reason: str | None = REASON,
    timeline: Timeline = TIMELINE,
) -> Status:
    return decide(
        trigger,
        current=current,
        timeline=timeline,
        actor=actor,
        at=at or inside(move(trigger), timeline),
        city=city,
        group=group,
        reason=reason,
    )


def _ids(m: Move, *parts: object) -> str:
    return "-".join([m.trigger, *(str(p) for p in parts)])


ALLOWED = [(m, source, role) for m in MOVES for source in m.sources for role in sorted(m.roles)]


@pytest.mark.parametrize(("m", "source", "role"), ALLOWED, ids=[_ids(m, s, r) for m, s, r in ALLOWED])
def test_every_move_succeeds_from_each_source_with_each_allowed_role(
    m: Move, source: Status, role: Role
) -> None:
    reason = REASON if m.reason_required else None
    assert run(m.trigger, source, actor_for(role), reason=reason) is m.dest


WRONG_STATE = [(m, status) for m in MOVES for status in Status if status not in m.sources]


@pytest.mark.parametrize(("m", "status"), WRONG_STATE, ids=[_ids(m, s) for m, s in WRONG_STATE])
def test_every_move_is_refused_from_every_other_status(m: Move, status: Status) -> None:
    with pytest.raises(InvalidTransition, match=f"not possible for a contestant who is {status.value}"):
        run(m.trigger, status, ADMIN if Role.ADMIN in m.roles else PUBLIC)


WRONG_ROLE = [(m, role) for m in MOVES for role in Role if role not in m.roles]


@pytest.mark.parametrize(("m", "role"), WRONG_ROLE, ids=[_ids(m, r) for m, r in WRONG_ROLE])
def test_every_move_is_refused_to_roles_outside_the_table(m: Move, role: Role) -> None:
    with pytest.raises(NotPermitted, match=f"the role {role.value} may not do this"):
        run(m.trigger, m.sources[0], actor_for(role))


CITY_MOVES = [m for m in MOVES if Role.CITY_STAFF in m.roles]


@pytest.mark.parametrize("m", CITY_MOVES, ids=[m.trigger for m in CITY_MOVES])
def test_city_staff_act_only_for_their_own_city(m: Move) -> None:
    assert run(m.trigger, m.sources[0], staff(WUHAN), city=WUHAN) is m.dest
    with pytest.raises(NotPermitted, match=f"staff of {HUANGSHI} may act only for their own city"):
        run(m.trigger, m.sources[0], staff(HUANGSHI), city=WUHAN)


REASONED = [m for m in MOVES if m.reason_required]


@pytest.mark.parametrize("reason", [None, "", "   "])
@pytest.mark.parametrize("m", REASONED, ids=[m.trigger for m in REASONED])
def test_moves_that_need_a_reason_refuse_without_one(m: Move, reason: str | None) -> None:
    with pytest.raises(ReasonRequired, match="a reason is required"):
        run(m.trigger, m.sources[0], ADMIN, reason=reason)


@pytest.mark.parametrize("m", MOVES, ids=[m.trigger for m in MOVES])
def test_every_group_the_move_allows_may_take_it(m: Move) -> None:
    actor = ADMIN if Role.ADMIN in m.roles else PUBLIC
    for group in m.groups:
        assert run(m.trigger, m.sources[0], actor, group=group) is m.dest


def test_trainees_cannot_self_register() -> None:
    with pytest.raises(GroupNotAllowed, match="enters only by recommendation"):
        run("register", Status.NEW, PUBLIC, group=Group.TRAINEE)
    with pytest.raises(GroupNotAllowed):
        run("register", Status.NEW, ADMIN, group=Group.TRAINEE)
    assert run("recommend", Status.NEW, staff(), group=Group.TRAINEE) is Status.NOMINATED


# --- the table written out by hand: a wrong edit of MOVES fails here -----------------

A, C, J, P = Role.ADMIN, Role.CITY_STAFF, Role.JUDGE, Role.PUBLIC
N, V, E, T = Status.NOMINATED, Status.VERIFIED, Status.ENROLLED, Status.TRAINED
CO, AD, AW = Status.COMPETED, Status.ADVANCED, Status.AWARDED
ACTIVE = {N, V, E, T, CO, AD}

EXPECTED: dict[str, tuple[set[Status], Status, set[Role], bool]] = {
    "recommend": ({Status.NEW, Status.WITHDRAWN}, N, {A, C}, False),  # withdrawn: nominated again
    "register": ({Status.NEW, Status.WITHDRAWN}, N, {A, P}, False),
    "verify": ({N}, V, {A}, False),
    "reject": ({N}, Status.REJECTED, {A}, True),
    "reconsider": ({Status.REJECTED}, N, {A}, True),
    "assign_training_account": ({V}, E, {A}, False),
    "record_training": ({E}, T, {A, J}, False),
    "record_results": ({T, CO}, CO, {A, J}, False),
    "advance": ({CO}, AD, {A, C}, False),
    "award": ({AD, AW}, AW, {A}, False),  # several awards; never straight from the contest
    "withdraw": (ACTIVE, Status.WITHDRAWN, {A, C}, True),
    "disqualify": (ACTIVE | {AW}, Status.DISQUALIFIED, {A}, True),
}


def test_the_table_is_the_one_the_campaign_agreed() -> None:
    actual = {m.trigger: (set(m.sources), m.dest, set(m.roles), m.reason_required) for m in MOVES}
    assert actual == EXPECTED
    assert move("register").groups == {Group.VETERAN, Group.FAMILY}
    assert all(m.groups == set(Group) for m in MOVES if m.trigger != "register")


def test_explicit_allowed_and_refused_cases() -> None:
    assert run("recommend", Status.NEW, staff()) is Status.NOMINATED
    assert run("register", Status.NEW, PUBLIC) is Status.NOMINATED
    assert run("verify", Status.NOMINATED, ADMIN) is Status.VERIFIED
    assert run("record_training", Status.ENROLLED, JUDGE) is Status.TRAINED
    assert run("record_results", Status.COMPETED, JUDGE) is Status.COMPETED  # a correction
    assert run("award", Status.ADVANCED, ADMIN) is Status.AWARDED
    assert run("award", Status.AWARDED, ADMIN) is Status.AWARDED  # a second award
    assert run("disqualify", Status.AWARDED, ADMIN) is Status.DISQUALIFIED
    with pytest.raises(NotPermitted):
        run("recommend", Status.NEW, PUBLIC)
    with pytest.raises(NotPermitted):
        run("register", Status.NEW, staff())
    with pytest.raises(NotPermitted):
        run("verify", Status.NOMINATED, staff())
    with pytest.raises(NotPermitted):
        run("verify", Status.NOMINATED, JUDGE)
    with pytest.raises(NotPermitted):
        run("advance", Status.COMPETED, JUDGE)
    with pytest.raises(NotPermitted):
        run("disqualify", Status.NOMINATED, staff())
    with pytest.raises(InvalidTransition):
        run("withdraw", Status.AWARDED, ADMIN)
    with pytest.raises(InvalidTransition):
        run("award", Status.TRAINED, ADMIN)
    with pytest.raises(InvalidTransition):
        run("verify", Status.VERIFIED, ADMIN)
    with pytest.raises(InvalidTransition):
        run("record_training", Status.VERIFIED, JUDGE)
    assert run("recommend", Status.WITHDRAWN, staff()) is Status.NOMINATED
    assert run("register", Status.WITHDRAWN, PUBLIC) is Status.NOMINATED
    for gone in (Status.DISQUALIFIED, Status.REJECTED):  # the rejected return by reconsideration
        with pytest.raises(InvalidTransition):
            run("recommend", gone, staff())
        with pytest.raises(InvalidTransition):
            run("register", gone, PUBLIC)


def test_verify_does_not_need_a_reason_but_reject_does() -> None:
    assert run("verify", Status.NOMINATED, ADMIN, reason=None) is Status.VERIFIED
    with pytest.raises(ReasonRequired):
        run("reject", Status.NOMINATED, ADMIN, reason=None)


def test_the_refusal_names_the_states_the_move_starts_from() -> None:
    with pytest.raises(InvalidTransition) as refused:
        run("award", Status.NOMINATED, ADMIN)
    assert refused.value.detail == (
        "award: not possible for a contestant who is nominated (only from advanced, awarded)"
    )
    assert refused.value.rule == "invalid_transition"


def test_role_is_checked_before_state() -> None:
    with pytest.raises(NotPermitted):
        run("verify", Status.AWARDED, PUBLIC)


@pytest.mark.parametrize(
    ("status", "moves"),
    [
        (Status.NEW, ["recommend", "register"]),
        (Status.NOMINATED, ["verify", "reject", "withdraw", "disqualify"]),
        (Status.COMPETED, ["record_results", "advance", "withdraw", "disqualify"]),
        (Status.AWARDED, ["award", "disqualify"]),
        (Status.REJECTED, ["reconsider"]),
        (Status.WITHDRAWN, ["recommend", "register"]),
        (Status.DISQUALIFIED, []),
    ],
)
def test_allowed_moves(status: Status, moves: list[str]) -> None:
    assert list(allowed_moves(status)) == moves


def test_every_stored_status_is_reachable_and_only_some_are_active() -> None:
    assert reachable_statuses() == set(Status) - {Status.NEW}
    assert {s for s in Status if s.is_active} == ACTIVE | {AW}


def test_the_documented_diagram_is_the_table() -> None:
    documented = (Path(__file__).parents[2] / "docs" / "lifecycle.md").read_text()
    assert diagram() in documented, "docs/lifecycle.md is out of date: regenerate it as it says"


def test_every_move_records_a_declared_event() -> None:
    assert set(EVENT_OF_MOVE) == {move.trigger for move in MOVES}
