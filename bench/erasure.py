"""What a key per person costs: erasure time, key-table size, and nominations with and without.

    .venv/bin/python -m bench.erasure [--people 10000] [--erase 300] [--rounds 6] [--round 300]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgres]

On each store (the embedded SQLite file, and a PostgreSQL database of its own, made and
dropped by the run) it prints:

- the time to erase one contestant (``CampaignService.erase``: the decision saved, the list
  outside the store synced, the key destroyed; on SQLite the write-ahead log emptied too),
  p50 and p99 over ``--erase`` erasures of a store holding ``--people`` contestants;
- the key table's size per 10,000 contestants (SQLite: the pages of the table and its index,
  from ``dbstat``; PostgreSQL: ``pg_total_relation_size``);
- nominations per second with a key per person and with the single application key alone
  (``single_key_only``, as before data keys), in two empty stores filled in interleaved
  rounds (ABBA order), so that both see the same machine at the same time;
- how long the scheduler's retention run takes to erase everyone left.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from eventsourcing.cipher import AESCipher
from psycopg import sql

from application.bootstrap import build_service
from application.recorders import PostgresCampaignRecorder, SQLiteCampaignRecorder
from application.service import CampaignService
from application.settings import Settings
from bench.figures import keep
from cli.people import fake_person
from domain.decision import DecisionContext
from domain.retention import RetentionPolicy
from domain.values import CITY_QUOTAS, SCHEDULER, Actor, Channel, Group, Person, Role

ADMIN = Actor("bench-admin", Role.ADMIN)
NOMINATING = datetime(2021, 6, 8, 2, tzinfo=UTC)  # recommendation is open
ERASING = datetime(2021, 10, 1, 2, tzinfo=UTC)
RETENTION = datetime(2021, 10, 2, 2, tzinfo=UTC)  # the ceremony ended on 16 Sep; policy: 0 days


def crowd(count: int, seed: int) -> list[Person]:
    """Made-up families (no city quota), unique ID numbers and accounts."""
    rng = random.Random(seed)
    cities = list(CITY_QUOTAS)
    found: list[Person] = []
    seen: set[str] = set()
    serial = 0
    while len(found) < count:
        fake = fake_person(rng, serial, cities[serial % len(cities)], "family")
        serial += 1
        if fake.id_number in seen:
            continue
        seen.add(fake.id_number)
        found.append(fake.person(account=f"{fake.account}_{seed}"))
    return found


def launch(service: CampaignService, size: int) -> uuid.UUID:
    return service.launch_campaign(
        f"bench {uuid.uuid4()}",
        DecisionContext(actor=ADMIN, at=NOMINATING - timedelta(days=30)),
        caps=dict.fromkeys(Group, size * 2),
        retention=RetentionPolicy(0),
    )


def nominate(service: CampaignService, campaign: uuid.UUID, people: list[Person]) -> list[uuid.UUID]:
    ids = []
    for person in people:
        staff = Actor("bench", Role.CITY_STAFF, person.city)
        context = DecisionContext(actor=staff, at=NOMINATING)
        ids.append(service.nominate(campaign, person, Channel.RECOMMENDED, context).id)
    return ids


def key_table_bytes(service: CampaignService) -> int:
    recorder = service.recorder
    assert isinstance(recorder, SQLiteCampaignRecorder | PostgresCampaignRecorder)
    return recorder.key_table_bytes()


def say(line: str, lines: list[str]) -> None:
    lines.append(line)
    print(line, flush=True)


def bench_erasure(name: str, settings: Settings, people: int, erase: int, lines: list[str]) -> None:
    with closing(build_service(settings)) as service:
        campaign = launch(service, people)
        started = time.perf_counter()
        ids = nominate(service, campaign, crowd(people, seed=1))
        seconds = time.perf_counter() - started
        say(f"{name}: {people} nominated with a key per person in {seconds:.1f} s", lines)
        size = key_table_bytes(service)
        say(
            f"{name} key table: {size:,} bytes for {people} contestants = "
            f"{size * 10_000 / people:,.0f} bytes per 10,000 ({size / people:.0f} per person)",
            lines,
        )
        latencies = []
        for n, contestant in enumerate(random.Random(2).sample(ids, erase)):
            context = DecisionContext(actor=ADMIN, at=ERASING + timedelta(seconds=n), reason="本人申请删除")
            started = time.perf_counter()
            service.erase(contestant, context)
            latencies.append(time.perf_counter() - started)
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        say(
            f"{name} erase one contestant ({erase} of {people}): p50 {cuts[49] * 1000:.1f} ms, "
            f"p99 {cuts[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms",
            lines,
        )
        started = time.perf_counter()
        erased = service.carry_out_retention(campaign, DecisionContext(actor=SCHEDULER, at=RETENTION))
        seconds = time.perf_counter() - started
        say(
            f"{name} retention run: {erased} erased in {seconds:.1f} s ({(erased or 0) / seconds:,.0f}/s)",
            lines,
        )


def bench_throughput(
    name: str, keyed: Settings, single: Settings, rounds: int, size: int, lines: list[str]
) -> None:
    with closing(build_service(keyed)) as per_person, closing(build_service(single)) as one_key:
        one_key.single_key_only()
        stores = {"a key per person": per_person, "the single key": one_key}
        campaigns = {label: launch(service, rounds * size) for label, service in stores.items()}
        spent = dict.fromkeys(stores, 0.0)
        for n in range(rounds):
            people = crowd(size, seed=100 + n)  # the same people in both stores
            order = list(stores) if n % 2 == 0 else list(reversed(stores))  # ABBA
            for label in order:
                started = time.perf_counter()
                nominate(stores[label], campaigns[label], people)
                spent[label] += time.perf_counter() - started
        rates = {label: rounds * size / seconds for label, seconds in spent.items()}
        for label, rate in rates.items():
            say(f"{name} nominations with {label}: {rate:,.0f}/s ({rounds} x {size}, interleaved)", lines)
        ratio = rates["a key per person"] / rates["the single key"]
        say(f"{name} a key per person runs at {ratio:.2f} x the single key's rate", lines)


def keyed_settings(**fields: object) -> Settings:
    return Settings.load(
        cipher_key=AESCipher.create_key(32),
        id_secret=uuid.uuid4().hex * 2,
        master_key=None,
        previous_master_key=None,
        compress=False,
        **fields,
    )


@contextmanager
def own_database(dsn: str) -> Iterator[str]:
    """A PostgreSQL database of the run's own (a URL to it), dropped afterwards."""
    name = f"bench_erasure_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(dsn)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000, help="contestants in the erasure store")
    parser.add_argument("--erase", type=int, default=300, help="erasures timed one by one")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds of nominations")
    parser.add_argument("--round", type=int, default=300, help="nominations per store per round")
    parser.add_argument("--pg", help="PostgreSQL server; a database of its own is made and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    lines: list[str] = []
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as scratch:

            def sqlite(name: str) -> Settings:
                return keyed_settings(
                    database_url=f"sqlite:///{scratch}/{name}.db",
                    erasure_list=Path(scratch) / f"{name}.jsonl",
                )

            bench_erasure("sqlite", sqlite("erasure"), args.people, args.erase, lines)
            bench_throughput("sqlite", sqlite("keys"), sqlite("single"), args.rounds, args.round, lines)
    if args.pg and args.only != "sqlite":
        with own_database(args.pg) as dsn, tempfile.TemporaryDirectory() as scratch:
            with psycopg.connect(dsn, autocommit=True) as connection:
                for schema in ("erasure", "keys", "single"):
                    connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

            def postgres(schema: str) -> Settings:
                return keyed_settings(
                    database_url=dsn, database_schema=schema, erasure_list=Path(scratch) / f"{schema}.jsonl"
                )

            bench_erasure("postgres", postgres("erasure"), args.people, args.erase, lines)
            bench_throughput("postgres", postgres("keys"), postgres("single"), args.rounds, args.round, lines)
    keep("erasure", lines)


if __name__ == "__main__":
    main()
