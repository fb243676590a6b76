"""A contestant's lifecycle: one table of moves, decided by a `transitions` machine.

The table is the single place that says which move is allowed from which state, in
which phase window, by which roles. The machine decides; the aggregate records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from transitions import Machine, MachineError

from domain.errors import (
    GroupNotAllowed,
    InvalidTransition,
    NotPermitted,
    PhaseClosed,
    ReasonRequired,
)
from domain.timeline import PhaseCode, Side, Timeline, shanghai_text
from domain.values import Actor, Group, Role


class Status(StrEnum):
    NEW = "new"  # before nomination; never stored
    NOMINATED = "nominated"
    VERIFIED = "verified"
    ENROLLED = "enrolled"  # training-platform account assigned
    TRAINED = "trained"
    COMPETED = "competed"
    ADVANCED = "advanced"
    AWARDED = "awarded"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DISQUALIFIED = "disqualified"

    @property
    def is_active(self) -> bool:
        """Active contestants hold their quota and group places."""
        return self not in (Status.NEW, Status.REJECTED, Status.WITHDRAWN, Status.DISQUALIFIED)


@dataclass(frozen=True)
class Edge:
    code: PhaseCode
    side: Side

    def __str__(self) -> str:
        return f"{self.code} {self.side}"


@dataclass(frozen=True)
class Span:
    """From ``start`` (inclusive) until ``end`` (exclusive), read off the campaign timeline."""

    start: Edge
    end: Edge

    def refusal(self, timeline: Timeline, at: datetime) -> str | None:
        """None when ``at`` lies inside; otherwise why not, naming the window."""
        start = timeline.instant(self.start.code, self.start.side)
        end = timeline.instant(self.end.code, self.end.side)
        over = end is not None and at >= end
        if start is None and not over:
            return f"{self.start.code} has no opening date yet"
        if start is not None and at < start:
            return f"{self.start} at {shanghai_text(start)}"
        if end is not None and over:  # over, whether or not it ever had an opening date
            verb = "closed" if self.end.side == "closes" else "opened"
            return f"{self.end.code} {verb} at {shanghai_text(end)}"
        return None


def during(code: PhaseCode) -> Span:
    return Span(Edge(code, "opens"), Edge(code, "closes"))


@dataclass(frozen=True)
class Move:
    trigger: str
    sources: tuple[Status, ...]
    dest: Status
    gates: tuple[Span, ...]  # any one open suffices; empty means any time
    roles: frozenset[Role]
    reason_required: bool = False
    groups: frozenset[Group] = frozenset(Group)


_EVERYONE_ACTIVE = (
    Status.NOMINATED,
    Status.VERIFIED,
    Status.ENROLLED,
    Status.TRAINED,
    Status.COMPETED,
    Status.ADVANCED,
)
_ORGANISERS = frozenset({Role.ADMIN})
_CITY_OR_ORGANISERS = frozenset({Role.ADMIN, Role.CITY_STAFF})
_JUDGES = frozenset({Role.ADMIN, Role.JUDGE})
_REVIEW = Span(Edge(PhaseCode.REGISTRATION, "opens"), Edge(PhaseCode.ONLINE_TRAINING, "opens"))
_TEAM_PICKING = Span(Edge(PhaseCode.CONTEST, "closes"), Edge(PhaseCode.FINALS, "opens"))

MOVES: tuple[Move, ...] = (
    # A withdrawn person may be nominated again while a channel is open (places retaken);
    # the rejected come back by reconsideration, the disqualified never.
    Move("recommend", (Status.NEW, Status.WITHDRAWN), Status.NOMINATED,
         (during(PhaseCode.RECOMMENDATION),), _CITY_OR_ORGANISERS),
    Move("register", (Status.NEW, Status.WITHDRAWN), Status.NOMINATED,
         (during(PhaseCode.SELF_REGISTRATION),), frozenset({Role.PUBLIC, Role.ADMIN}),
         groups=frozenset({Group.VETERAN, Group.FAMILY})),
    Move("verify", (Status.NOMINATED,), Status.VERIFIED, (_REVIEW,), _ORGANISERS),
    # Who is still unreviewed when training opens may be rejected then, in bulk with one reason.
    Move("reject", (Status.NOMINATED,), Status.REJECTED, (_REVIEW, during(PhaseCode.ONLINE_TRAINING)),
         _ORGANISERS, reason_required=True),
    # Reconsideration (e.g. the missing 退役证 is brought): back to review, places retaken.
    Move("reconsider", (Status.REJECTED,), Status.NOMINATED, (_REVIEW,), _ORGANISERS,
         reason_required=True),
    Move("assign_training_account", (Status.VERIFIED,), Status.ENROLLED,
         (during(PhaseCode.ONLINE_TRAINING),), _ORGANISERS),
    Move("record_training", (Status.ENROLLED,), Status.TRAINED,
         (during(PhaseCode.ONLINE_TRAINING),), _JUDGES),
    Move("record_results", (Status.TRAINED, Status.COMPETED), Status.COMPETED,
         (during(PhaseCode.CONTEST),), _JUDGES),
    Move("advance", (Status.COMPETED,), Status.ADVANCED, (_TEAM_PICKING,), _CITY_OR_ORGANISERS),
    Move("award", (Status.ADVANCED, Status.AWARDED), Status.AWARDED,
         (during(PhaseCode.FINALS), during(PhaseCode.CEREMONY)), _ORGANISERS),
    Move("withdraw", _EVERYONE_ACTIVE, Status.WITHDRAWN, (), _CITY_OR_ORGANISERS,
         reason_required=True),
    Move("disqualify", (*_EVERYONE_ACTIVE, Status.AWARDED), Status.DISQUALIFIED, (),
         _ORGANISERS, reason_required=True),
)  # fmt: skip
MOVES_BY_TRIGGER = {move.trigger: move for move in MOVES}


@dataclass
class _Decision:
    """The model the machine moves for one decision; it never outlives the decision."""

    state: str
    timeline: Timeline
    at: datetime
    refusals: list[str] = field(default_factory=list)

    def gate_open(self, event_data: Any) -> bool:
        move = MOVES_BY_TRIGGER[event_data.event.name]
        if not move.gates:
            return True
        refusals = [r for span in move.gates if (r := span.refusal(self.timeline, self.at))]
        if len(refusals) < len(move.gates):
            return True
        self.refusals = refusals
        return False


def _machine_config() -> dict[str, Any]:
    return {
        "states": [status.value for status in Status],
        "transitions": [
            {
                "trigger": move.trigger,
                "source": [s.value for s in move.sources],
                "dest": move.dest.value,
                "conditions": "gate_open",
            }
            for move in MOVES
        ],
        "auto_transitions": False,
        "send_event": True,
    }


_machine_lock = threading.Lock()


@cache
def machine() -> Machine:
    """The one machine of the table, built once; each decision runs its move on a model of its own."""
    return Machine(model=None, initial=Status.NEW.value, **_machine_config())


def decide(
    trigger: str,
    *,
    current: Status,
    timeline: Timeline,
    actor: Actor,
    at: datetime,
    city: str,
    group: Group,
    reason: str | None,
) -> Status:
    """The state a move leads to, or the specific refusal naming the rule."""
    move = MOVES_BY_TRIGGER[trigger]
    action = trigger.replace("_", " ")
    if actor.role not in move.roles:
        allowed = ", ".join(sorted(role.value for role in move.roles))
        raise NotPermitted(f"{action}: the role {actor.role} may not do this (allowed: {allowed})")
    if actor.role is Role.CITY_STAFF and actor.city != city:
        raise NotPermitted(f"{action}: staff of {actor.city} may act only for their own city, not {city}")
    if group not in move.groups:
        raise GroupNotAllowed(f"{action}: the {group} group ({group.title}) enters only by recommendation")
    if move.reason_required and not (reason and reason.strip()):
        raise ReasonRequired(f"{action}: a reason is required")
    model = _Decision(current.value, timeline, at)
    try:
        # The move is run on the model directly: adding the model to the machine (its
        # triggers bound as methods) and removing it again cost more than the move itself.
        with _machine_lock:  # the machine's transition queue is shared by the request threads
            moved = machine().events[trigger].trigger(model)
    except MachineError:
        allowed_from = ", ".join(s.value for s in move.sources)
        raise InvalidTransition(
            f"{action}: not possible for a contestant who is {current} (only from {allowed_from})"
        ) from None
    if not moved:
        raise PhaseClosed(f"{action}: {'; '.join(model.refusals)}")
    return Status(model.state)


def allowed_moves(current: Status) -> list[str]:
    """The triggers the table allows from a state, phase windows aside."""
    return [move.trigger for move in MOVES if current in move.sources]


def diagram() -> str:
    """The table drawn as a Mermaid state diagram, from the same machine configuration."""
    from transitions.extensions import GraphMachine  # drawing only: kept off the deciding path

    config = _machine_config()
    config["transitions"] = [{k: v for k, v in t.items() if k != "conditions"} for t in config["transitions"]]
    del config["send_event"]
    drawn = GraphMachine(model=_Drawing(), initial=Status.NEW.value, graph_engine="mermaid", **config)
    text: str = drawn.model.get_graph().draw(None)  # type: ignore[attr-defined]
    return text.replace("State Machine", "A contestant's lifecycle (domain/lifecycle.py)", 1)


class _Drawing:
    """The model a drawing machine needs; it decides nothing."""
