"""Command throughput of the campaign service on the embedded SQLite store and PostgreSQL.

    .venv/bin/python bench/commands.py [--people 1000] [--threads 8] [--pg postgresql://...] \
        [--no-chain] [--rounds 3]

Prints one line per figure and appends them to bench/results/commands.txt. With
``--no-chain`` every store is measured with the hash chain and without it (the recorder's
links switched off) in the same run, ``--rounds`` times, the order alternating from round
to round so that a drift in the machine's load falls on both sides; the chain's cost is
then printed per figure as the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from application import decisions
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from cli.people import fake_person
from domain.decision import DecisionContext
from domain.values import CITY_QUOTAS, Actor, Channel, Group, Person, Role

ADMIN = Actor("bench-admin", Role.ADMIN)
NOMINATION_DAY = datetime(2021, 6, 8, 2, tzinfo=UTC)
REVIEW_DAY = datetime(2021, 7, 3, 2, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results"


def people(count: int) -> list[Person]:
    import random

    rng = random.Random(7)
    cities = list(CITY_QUOTAS)
    found = []
    for serial in range(count):
        fake = fake_person(rng, serial, cities[serial % len(cities)], "family")
        found.append(
            Person.parse(
                name=fake.name,
                id_number=fake.id_number,
                mobile=fake.mobile,
                city=fake.city,
                group=fake.group,
                platform=fake.platform,
                account=fake.account,
                followers=fake.followers,
            )
        )
    return found


def timed(label: str, count: int, run: Callable[[], None], lines: list[str]) -> float:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    lines.append(f"{label}: {count / seconds:,.0f}/s ({count} in {seconds:.2f} s)")
    print(lines[-1], flush=True)
    return count / seconds


def bench_store(
    name: str, settings: Settings, crowd: list[Person], threads: int, lines: list[str], *, chain: bool = True
) -> dict[str, float]:
    """Rates per second of each figure (nominate, verify, withdraw)."""
    service = build_service(settings)
    service.recorder.chains = chain  # type: ignore[attr-defined]
    name = name if chain else f"{name} (no chain)"
    try:
        campaign = service.launch_campaign(
            f"bench {uuid.uuid4()}",
            actor=ADMIN,
            at=NOMINATION_DAY - timedelta(days=30),
            caps=dict.fromkeys(Group, len(crowd) * 2),
        )
        ids: list[uuid.UUID] = []
        latencies: list[float] = []

        def nominate_all() -> None:
            for n, person in enumerate(crowd):
                started = time.perf_counter()
                staff = Actor("bench", Role.CITY_STAFF, person.city)
                at = NOMINATION_DAY + timedelta(seconds=n)
                ids.append(
                    service.nominate(
                        campaign, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=at)
                    ).id
                )
                latencies.append(time.perf_counter() - started)

        rates = {"nominate": timed(f"{name} nominate, one writer", len(crowd), nominate_all, lines)}
        p50, p99 = statistics.quantiles(latencies, n=100)[49], statistics.quantiles(latencies, n=100)[98]
        lines.append(f"{name} nominate latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        print(lines[-1], flush=True)

        def verify_all() -> None:
            for contestant in ids:
                service.decide(contestant, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEW_DAY))

        rates["verify"] = timed(f"{name} verify, one writer", len(ids), verify_all, lines)
        rates["withdraw"] = bench_contended(name, service, campaign, crowd[: len(crowd) // 2], threads, lines)
        return rates
    finally:
        service.close()


def bench_contended(
    name: str,
    service: CampaignService,
    campaign: uuid.UUID,
    crowd: list[Person],
    threads: int,
    lines: list[str],
) -> float:
    """Writers withdrawing concurrently: every withdrawal saves the group cap they share."""
    targets = [service.find_contestant(campaign, p.id_number.value).id for p in crowd]
    chunks = [targets[i::threads] for i in range(threads)]

    def worker(chunk: list[uuid.UUID]) -> None:
        for contestant in chunk:
            staff = Actor("bench", Role.ADMIN)
            service.decide(
                contestant,
                decisions.WITHDRAW,
                DecisionContext(actor=staff, at=REVIEW_DAY + timedelta(hours=1), reason="bench"),
            )

    def run() -> None:
        pool = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    return timed(f"{name} withdraw, {threads} writers on one group cap", len(targets), run, lines)


def bench_round(
    args: argparse.Namespace, crowd: list[Person], chain: bool, lines: list[str]
) -> dict[str, dict[str, float]]:
    """Each store once, fresh, with or without the chain: rates by store and figure."""
    found: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings.load(database_url=f"sqlite:///{scratch}/bench.db")
        found["sqlite"] = bench_store("sqlite", settings, crowd, args.threads, lines, chain=chain)
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            settings = Settings.load(database_url=args.pg, database_schema=schema, pool_size=args.threads)
            found["postgres"] = bench_store("postgres", settings, crowd, args.threads, lines, chain=chain)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return found


def chain_costs(rounds: list[dict[bool, dict[str, dict[str, float]]]], lines: list[str]) -> None:
    """Per store and figure: how much slower with the chain, median of the rounds' ratios."""
    for store, figures in rounds[0][True].items():
        for figure in figures:
            ratios = [r[False][store][figure] / r[True][store][figure] for r in rounds]
            cost = (statistics.median(ratios) - 1) * 100
            each = ", ".join(f"{(ratio - 1) * 100:+.0f}%" for ratio in ratios)
            lines.append(
                f"{store} {figure}: the chain costs {cost:+.1f}% (median of {len(ratios)} rounds: {each})"
            )
            print(lines[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument("--no-chain", action="store_true", help="also measure every store without the chain")
    parser.add_argument("--rounds", type=int, default=1, help="with --no-chain: rounds of both, alternating")
    args = parser.parse_args()
    crowd = people(args.people)
    lines: list[str] = []
    rounds: list[dict[bool, dict[str, dict[str, float]]]] = []
    for number in range(args.rounds if args.no_chain else 1):
        order = (True, False) if number % 2 == 0 else (False, True)
        rounds.append(
            {chain: bench_round(args, crowd, chain, lines) for chain in (order if args.no_chain else (True,))}
        )
    if args.no_chain:
        chain_costs(rounds, lines)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (RESULTS / "commands.txt").open("a") as out:
        out.writelines(f"{stamp} {line}\n" for line in lines)


if __name__ == "__main__":
    main()
