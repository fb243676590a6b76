"""Command throughput of the campaign service on the embedded SQLite store and PostgreSQL.

    .venv/bin/python bench/commands.py [--people 1000] [--threads 8] [--pg postgresql://...] [--no-chain]

Prints one line per figure and appends them to bench/results/commands.txt. With
``--no-chain`` every store is measured twice in the same run, with the hash chain and
without it (the recorder's links switched off), to show what the chain costs.
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


def timed(label: str, count: int, run: Callable[[], None], lines: list[str]) -> None:
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    lines.append(f"{label}: {count / seconds:,.0f}/s ({count} in {seconds:.2f} s)")
    print(lines[-1], flush=True)


def bench_store(
    name: str, settings: Settings, crowd: list[Person], threads: int, lines: list[str], *, chain: bool = True
) -> None:
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

        timed(f"{name} nominate, one writer", len(crowd), nominate_all, lines)
        p50, p99 = statistics.quantiles(latencies, n=100)[49], statistics.quantiles(latencies, n=100)[98]
        lines.append(f"{name} nominate latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        print(lines[-1], flush=True)

        def verify_all() -> None:
            for contestant in ids:
                service.decide(contestant, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEW_DAY))

        timed(f"{name} verify, one writer", len(ids), verify_all, lines)
        bench_contended(name, service, campaign, crowd[: len(crowd) // 2], threads, lines)
    finally:
        service.close()


def bench_contended(
    name: str,
    service: CampaignService,
    campaign: uuid.UUID,
    crowd: list[Person],
    threads: int,
    lines: list[str],
) -> None:
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

    timed(f"{name} withdraw, {threads} writers on one group cap", len(targets), run, lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument("--no-chain", action="store_true", help="also measure every store without the chain")
    args = parser.parse_args()
    crowd = people(args.people)
    lines: list[str] = []
    for chain in (True, False) if args.no_chain else (True,):
        with tempfile.TemporaryDirectory() as scratch:
            settings = Settings.load(database_url=f"sqlite:///{scratch}/bench.db")
            bench_store("sqlite", settings, crowd, args.threads, lines, chain=chain)
        if args.pg:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                settings = Settings.load(database_url=args.pg, database_schema=schema, pool_size=args.threads)
                bench_store("postgres", settings, crowd, args.threads, lines, chain=chain)
            finally:
                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (RESULTS / "commands.txt").open("a") as out:
        out.writelines(f"{stamp} {line}\n" for line in lines)


if __name__ == "__main__":
    main()
