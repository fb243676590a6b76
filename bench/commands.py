"""Command throughput of the campaign service on the embedded SQLite store and PostgreSQL.

    .venv/bin/python bench/commands.py [--people 1000] [--threads 8] [--pg postgresql://...] \\
        [--no-chain] [--rounds 3]

Prints one line per figure and appends them to bench/results/commands.txt.

With ``--no-chain`` each backend gets two fresh stores side by side in the same process,
one with the hash chain and one without it (the recorder's links switched off), and the
two take turns operation by operation (nominate one person here, then there; the order
alternates), so whatever else loads the machine falls on both alike. The chain's cost is
the ratio of the total times of the same operations; the threaded withdrawals run as two
blocks, one store after the other. ``--rounds`` repeats all of it on fresh stores and
prints the median cost of the rounds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from application import decisions
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from cli.people import fake_person
from domain.decision import DecisionContext
from domain.values import CITY_QUOTAS, Actor, Channel, Group, Person, Role

if TYPE_CHECKING or __package__:
    from bench.figures import keep, scratch_schema
else:  # run as bench/commands.py: this folder is on the path, the checkout's root is not
    from figures import keep, scratch_schema

ADMIN = Actor("bench-admin", Role.ADMIN)
NOMINATION_DAY = datetime(2021, 6, 8, 2, tzinfo=UTC)
REVIEW_DAY = datetime(2021, 7, 3, 2, tzinfo=UTC)
FIGURES = ("nominate", "verify", "withdraw")


def people(count: int) -> list[Person]:
    rng = random.Random(7)
    cities = list(CITY_QUOTAS)
    found = []
    for serial in range(count):
        fake = fake_person(rng, serial, cities[serial % len(cities)], "family")
        found.append(fake.person())
    return found


@dataclass
class Side:
    """One store under measurement: its service, campaign, contestants and operation times."""

    name: str
    service: CampaignService
    campaign: uuid.UUID
    ids: list[uuid.UUID] = field(default_factory=list)
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def timed(self, figure: str, operation: Callable[[], object]) -> None:
        started = time.perf_counter()
        operation()
        self.seconds.setdefault(figure, []).append(time.perf_counter() - started)

    def rate(self, figure: str) -> float:
        return len(self.seconds[figure]) / sum(self.seconds[figure])


def open_side(name: str, settings: Settings, crowd: list[Person], *, chain: bool) -> Side:
    service = build_service(settings)
    service.recorder.chains = chain  # type: ignore[attr-defined]
    campaign = service.launch_campaign(
        f"bench {uuid.uuid4()}",
        DecisionContext(actor=ADMIN, at=NOMINATION_DAY - timedelta(days=30)),
        caps=dict.fromkeys(Group, len(crowd) * 2),
    )
    return Side(name if chain else f"{name} (no chain)", service, campaign)


def nominate(side: Side, n: int, person: Person) -> None:
    staff = Actor("bench", Role.CITY_STAFF, person.city)
    at = NOMINATION_DAY + timedelta(seconds=n)
    contestant = side.service.nominate(
        side.campaign, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=at)
    )
    side.ids.append(contestant.id)


def verify(side: Side, n: int) -> None:
    side.service.decide(side.ids[n], decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEW_DAY))


def withdraw_together(side: Side, crowd: list[Person], threads: int) -> None:
    """Writers withdrawing concurrently: every withdrawal saves the group cap they share."""
    targets = [side.service.find_contestant(side.campaign, p.id_number.value).id for p in crowd]
    chunks = [targets[i::threads] for i in range(threads)]

    def worker(chunk: list[uuid.UUID]) -> None:
        for contestant in chunk:
            context = DecisionContext(actor=ADMIN, at=REVIEW_DAY + timedelta(hours=1), reason="bench")
            side.service.decide(contestant, decisions.WITHDRAW, context)

    def run() -> None:
        pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    started = time.perf_counter()
    run()
    # One entry per withdrawal, so that rate() counts withdrawals per second of the block.
    seconds = time.perf_counter() - started
    side.seconds["withdraw"] = [seconds / len(targets)] * len(targets)


def measure(sides: list[Side], crowd: list[Person], threads: int) -> None:
    """Every figure on every side, the sides taking turns operation by operation."""
    for n, person in enumerate(crowd):
        for side in sides if n % 2 == 0 else sides[::-1]:
            side.timed("nominate", partial(nominate, side, n, person))
    for n in range(len(crowd)):
        for side in sides if n % 2 == 0 else sides[::-1]:
            side.timed("verify", partial(verify, side, n))
    for side in sides:
        withdraw_together(side, crowd[: len(crowd) // 2], threads)


def report(side: Side, threads: int, lines: list[str]) -> None:
    latencies = side.seconds["nominate"]
    cuts = statistics.quantiles(latencies, n=100)
    for text in (
        f"{side.name} nominate, one writer: {side.rate('nominate'):,.0f}/s ({len(latencies)})",
        f"{side.name} nominate latency: p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms",
        f"{side.name} verify, one writer: {side.rate('verify'):,.0f}/s",
        f"{side.name} withdraw, {threads} writers on one group cap: {side.rate('withdraw'):,.0f}/s",
    ):
        lines.append(text)
        print(text, flush=True)


@contextmanager
def store_settings(backend: str, args: argparse.Namespace) -> Iterator[Settings]:
    """A fresh, empty store: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            yield Settings.load(database_url=f"sqlite:///{scratch}/bench.db")
        return
    with scratch_schema(args.pg) as schema:
        yield Settings.load(database_url=args.pg, database_schema=schema, pool_size=args.threads)


def bench_round(
    backend: str, args: argparse.Namespace, crowd: list[Person], lines: list[str]
) -> dict[str, float]:
    """One round on fresh stores; with --no-chain, the chain's cost per figure (1.0 = none)."""
    chains = (True, False) if args.no_chain else (True,)
    with ExitStack() as stack:
        sides = []
        for chain in chains:
            side = open_side(backend, stack.enter_context(store_settings(backend, args)), crowd, chain=chain)
            stack.callback(side.service.close)
            sides.append(side)
        measure(sides, crowd, args.threads)
        for side in sides:
            report(side, args.threads, lines)
    if not args.no_chain:
        return {}
    chained, bare = sides
    return {figure: sum(chained.seconds[figure]) / sum(bare.seconds[figure]) for figure in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", help="PostgreSQL DSN; fresh schemas are created and dropped")
    parser.add_argument("--no-chain", action="store_true", help="also measure each store without the chain")
    parser.add_argument("--rounds", type=int, default=1, help="rounds on fresh stores")
    args = parser.parse_args()
    crowd = people(args.people)
    lines: list[str] = []
    backends = ["sqlite", "postgres"] if args.pg else ["sqlite"]
    costs: dict[str, list[dict[str, float]]] = {backend: [] for backend in backends}
    for _ in range(args.rounds):
        for backend in backends:
            costs[backend].append(bench_round(backend, args, crowd, lines))
    for backend, rounds in costs.items():
        for figure in FIGURES if args.no_chain else ():
            ratios = [found[figure] for found in rounds]
            each = ", ".join(f"{(ratio - 1) * 100:+.1f}%" for ratio in ratios)
            lines.append(
                f"{backend} {figure}: the chain costs {(statistics.median(ratios) - 1) * 100:+.1f}%"
                f" (median of {len(ratios)} rounds: {each})"
            )
            print(lines[-1], flush=True)
    keep("commands", lines)


if __name__ == "__main__":
    main()
