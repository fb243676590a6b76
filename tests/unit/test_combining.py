"""Nominations queued behind a batch are decided together by the next in line."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from application.combining import Lanes, Nomination
from domain.decision import DecisionContext
from domain.values import Channel
from tests.builders import ADMIN, make_person, shanghai

AT = shanghai(2021, 6, 10, 10)


def nomination(seq: int) -> Nomination:
    return Nomination(make_person(seq), Channel.RECOMMENDED, DecisionContext(actor=ADMIN, at=AT))


def test_those_queued_meanwhile_are_decided_in_one_batch_in_arrival_order() -> None:
    lanes: Lanes[str] = Lanes()
    first_running, release_first = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def decide(batch: Sequence[Nomination]) -> list[str | None]:
        names = [n.person.name for n in batch]
        batches.append(names)
        if len(batches) == 1:
            first_running.set()
            release_first.wait(10)
        return [f"done {name}" for name in names]

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(lanes.run, "cap", nomination(1), decide)
        assert first_running.wait(10)
        later = []
        for seq in (2, 3, 4):
            later.append(pool.submit(lanes.run, "cap", nomination(seq), decide))
            for _ in range(10_000):  # until it is queued behind the running batch (at most 10 s)
                if len(lanes._lanes["cap"].queue) == seq - 1:
                    break
                threading.Event().wait(0.001)
        release_first.set()
        assert first.result(10) == "done 选手1"
        assert [f.result(10) for f in later] == ["done 选手2", "done 选手3", "done 选手4"]
    assert batches == [["选手1"], ["选手2", "选手3", "选手4"]]
    assert lanes._lanes == {}


def test_a_batch_that_fails_leaves_each_to_be_decided_alone() -> None:
    lanes: Lanes[str] = Lanes()

    def fail(batch: Sequence[Nomination]) -> list[str | None]:
        raise RuntimeError("the store went away")

    assert lanes.run("cap", nomination(1), fail) is None
    assert lanes.run("cap", nomination(2), lambda batch: []) is None  # not one outcome each
