"""Nominations that queue for the same pools are saved together by whoever is first in line.

Writers of one pool take turns (``limits.py``); under a surge a nomination would then wait
for every one queued before it, each a transaction of its own. Instead, while one batch is
being decided and saved, the nominations arriving meanwhile queue up, and the next in line
decides and saves all of them in one transaction, each in turn as it would be on its own.
A lane is a campaign and a group: its nominations share the group cap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from domain.decision import DecisionContext
from domain.values import Channel, Person

R = TypeVar("R")
MAX_BATCH = 50


@dataclass(frozen=True)
class Nomination:
    """One person to nominate, with everything the decision records."""

    person: Person
    channel: Channel
    context: DecisionContext
    unit: str | None = None
    contact: str | None = None


@dataclass
class _Waiting(Generic[R]):
    nomination: Nomination
    done: bool = False
    outcome: R | None = None


@dataclass
class _Lane(Generic[R]):
    busy: bool = False
    queue: list[_Waiting[R]] = field(default_factory=list)


class Lanes(Generic[R]):
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._lanes: dict[Hashable, _Lane[R]] = {}

    def run(
        self,
        key: Hashable,
        nomination: Nomination,
        decide: Callable[[Sequence[Nomination]], Sequence[R | None]],
    ) -> R | None:
        """The outcome of ``nomination``, decided in a batch by ``decide`` (None: decide it alone).

        ``decide`` gets the queued nominations in arrival order and answers one outcome each
        (anything else, or an error, leaves each to be decided alone); it runs in the thread
        of whichever nomination is first in line.
        """
        waiting: _Waiting[R] = _Waiting(nomination)
        with self._changed:
            lane = self._lanes.setdefault(key, _Lane())
            lane.queue.append(waiting)
            while lane.busy and not waiting.done:
                self._changed.wait()
            if waiting.done:
                return waiting.outcome
            lane.busy = True
            batch, lane.queue[:] = lane.queue[:MAX_BATCH], lane.queue[MAX_BATCH:]
        outcomes: Sequence[R | None] = [None] * len(batch)
        try:
            decided = decide([w.nomination for w in batch])
            if len(decided) == len(batch):
                outcomes = decided
        except Exception:  # noqa: S110 - each of the batch is then decided alone and sees its error
            pass
        finally:
            with self._changed:
                for queued, outcome in zip(batch, outcomes, strict=True):
                    queued.outcome, queued.done = outcome, True
                lane.busy = False
                if not lane.queue:
                    del self._lanes[key]
                self._changed.notify_all()
        return waiting.outcome
