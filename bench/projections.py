"""Projection throughput and lag, on PostgreSQL (production) or SQLite (the embedded default).

    .venv/bin/python -m bench.projections postgresql://USER@HOST:PORT/DB [--events 750000] \
        [--rounds 3] [--rate 200] [--writers 4] [--seconds 30] [--batch 1000] [--schema NAME --keep]
    .venv/bin/python -m bench.projections sqlite:///bench/results/bench.db [--events ...] [--keep]

(Run it as a module: as a script, this file's name would shadow the ``projections`` package.)

1. Fills a fresh schema with a campaign-like event volume: several campaigns whose
   contestants are nominated, verified, enrolled, trained and scored through the real
   aggregates (saved a few hundred at a time, so the fill itself is quick). With
   ``--schema`` an earlier ``--keep`` run's schema is reused and only topped up.
2. Measures catch-up: every view built from empty tables to the head, in events/s, in this
   one process (one core; the database server runs beside it), and as a fraction of a raw
   read-and-decode of the same events (read in the same batches, nothing written), in
   ``--rounds`` interleaved rounds of (raw read, catch-up); the median ratio is the figure.
3. Runs commands at a steady rate from ``--writers`` processes (each a contestant's life:
   nominate, verify, training account, training, results) while a runner in this process
   follows, polling; measures lag from a command's return to every view having processed
   the log up to its head just after the command (an upper bound: other writers' events
   count too), in milliseconds p50/p99, and the log head minus the slowest view.

Prints one line per figure and appends them to bench/results/projections.txt. A new schema
(or the SQLite file) is dropped afterwards unless --keep is given; the views start empty on
every run.
"""

from __future__ import annotations

import argparse
import bisect
import multiprocessing
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from application import decisions
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from bench import figures
from cli.people import fake_person
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.enrolment import contestant_scopes, take_places
from domain.places import AccountClaim, Allotment
from domain.timeline import SHANGHAI
from domain.values import CITY_QUOTAS, SCHEDULER, Actor, Channel, Group, Person, Role
from projections import open_views
from projections.batches import read_window
from projections.runner import ProjectionRunner
from projections.store import views_path

ADMIN = Actor("bench-admin", Role.ADMIN)
JUDGE = Actor("bench-judge", Role.JUDGE)
LAUNCH = datetime(2021, 5, 20, 9, tzinfo=SHANGHAI)
NOMINATING = datetime(2021, 6, 10, 10, tzinfo=SHANGHAI)
REVIEWING = datetime(2021, 6, 20, 15, tzinfo=SHANGHAI)
TRAINING = datetime(2021, 7, 12, 9, tzinfo=SHANGHAI)
TRAINED = datetime(2021, 7, 18, 17, tzinfo=SHANGHAI)
RESULTS_DAY = datetime(2021, 8, 30, 20, tzinfo=SHANGHAI)
PER_CAMPAIGN = 5000  # contestants
SCORES = {"short_video": 80.0, "account_operation": 70.0, "livestream_selling": 90.0}


def say(line: str, lines: list[str]) -> None:
    lines.append(line)
    print(line, flush=True)


def launch(service: CampaignService, people: int) -> Campaign:
    big = {city: {Group.TRAINEE: people, Group.VETERAN: people} for city in CITY_QUOTAS}
    campaign_id = service.launch_campaign(
        f"bench {uuid.uuid4()}",
        DecisionContext(actor=ADMIN, at=LAUNCH),
        quotas=big,
        caps=dict.fromkeys(Group, people * 2),
    )
    service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=NOMINATING))
    return service.get_campaign(campaign_id)


class Crowd:
    """Made-up people with unique ID numbers and accounts."""

    def __init__(self, seed: int, prefix: str = "bench") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.serial = 0
        self.seen: set[str] = set()
        self.cities = list(CITY_QUOTAS)

    def next(self) -> Person:
        while True:
            self.serial += 1
            city = self.cities[self.serial % len(self.cities)]
            group = ("trainee", "veteran", "family")[self.serial % 3]
            fake = fake_person(self.rng, self.serial, city, group)
            if fake.id_number in self.seen:
                continue
            self.seen.add(fake.id_number)
            return fake.person(account=f"{self.prefix}_{self.serial:08d}")


def fill(service: CampaignService, events: int, chunk: int, lines: list[str]) -> None:
    """Whole contestant lives through the real aggregates, saved ``chunk`` contestants at a time."""
    crowd = Crowd(7)
    started = time.perf_counter()
    already = int(service.recorder.max_notification_id() or 0)
    if already >= events:
        say(f"fill: the schema already holds {already} events", lines)
        return
    while int(service.recorder.max_notification_id() or 0) < events:
        campaign = launch(service, PER_CAMPAIGN)
        allotments: dict[str, Allotment] = {}
        for _ in range(0, PER_CAMPAIGN, chunk):
            batch: list[object] = []
            for _ in range(chunk):
                person = crowd.next()
                staff = Actor("bench-staff", Role.CITY_STAFF, person.city)
                key = service.pseudonym(person.id_number.value)
                c = Contestant.nominate(
                    campaign,
                    person,
                    Channel.RECOMMENDED,
                    DecisionContext(actor=staff, at=NOMINATING),
                    person_key=key,
                )
                claim = AccountClaim.claim(
                    campaign.id, service.pseudonym(person.account.key), c.id, NOMINATING
                )
                for scope in contestant_scopes(c):
                    if scope not in allotments:
                        allotments[scope] = Allotment(
                            campaign_id=campaign.id, scope=scope, timestamp=NOMINATING
                        )
                take_places(c, campaign, allotments, NOMINATING)
                c.verify(campaign, DecisionContext(actor=ADMIN, at=REVIEWING, reason="材料齐全"))
                c.assign_training_account(
                    campaign, DecisionContext(actor=ADMIN, at=TRAINING), f"t-{crowd.serial}"
                )
                c.record_training(campaign, DecisionContext(actor=JUDGE, at=TRAINED))
                c.record_results(campaign, DecisionContext(actor=JUDGE, at=RESULTS_DAY), dict(SCORES))
                batch += [c, claim]
            service.save(*batch, *allotments.values())
            if int(service.recorder.max_notification_id() or 0) >= events:
                break
    head = int(service.recorder.max_notification_id() or 0)
    seconds = time.perf_counter() - started
    say(f"fill: {head} events in {seconds:.1f} s ({head / seconds:,.0f} events/s written)", lines)


def read_and_decode(service: CampaignService, topics: list[str], head: int, batch: int) -> float:
    """Seconds to read and decode the views' events up to ``head``, as catch-up does, writing nothing."""
    started, position = time.perf_counter(), 0
    while position < head:
        position = read_window(service, topics, position, head, batch).end
    return time.perf_counter() - started


def catch_up(service: CampaignService, settings: Settings, batch: int, rounds: int, lines: list[str]) -> None:
    """``rounds`` interleaved rounds of (raw read-and-decode, catch-up from empty views); the median ratio."""
    head = int(service.recorder.max_notification_id() or 0)
    ratios: list[float] = []
    views = open_views(settings)
    try:  # once before the rounds: the first raw read would otherwise be the only cold one
        read_and_decode(service, sorted({t for v in views.all for t in v.topics}), head, batch)
    finally:
        views.close()
    for round_number in range(1, rounds + 1):
        empty_views(settings)
        views = open_views(settings)
        try:
            raw = read_and_decode(service, sorted({t for v in views.all for t in v.topics}), head, batch)
            runner = ProjectionRunner(service, views.all, batch_size=batch)
            started = time.perf_counter()
            runner.catch_up(timeout=3600)
            seconds = time.perf_counter() - started
        finally:
            views.close()
        ratios.append(raw / seconds)
        say(
            f"catch-up round {round_number}, all {len(views.all)} views together: {head} events in "
            f"{seconds:.2f} s = {head / seconds:,.0f} events/s (batch {batch}); raw read-and-decode of "
            f"the same log {head / raw:,.0f} events/s, catch-up {raw / seconds:.2f}x of it",
            lines,
        )
    say(
        f"catch-up, median of {rounds} rounds: {statistics.median(ratios):.2f}x raw read-and-decode "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})",
        lines,
    )


def empty_views(settings: Settings) -> None:
    """Every view's tables gone, so the next catch-up builds them from the start of the log."""
    if not settings.is_postgres:
        for stale in views_path(settings).parent.glob(views_path(settings).name + "*"):
            stale.unlink()
        return
    schema = settings.database_schema
    if schema is None or not schema.startswith("bench"):
        raise SystemExit(f"only a bench schema's views are dropped, not {schema!r}'s")
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for (table,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'view%%'", (schema,)
        ).fetchall():
            conn.execute(f'DROP TABLE "{schema}"."{table}"')


LIFE = ("nominate", "verify", "assign_training_account", "record_training", "record_results")


def writer(
    settings: Settings, campaign_id: UUID, number: int, rate: float, seconds: float, go: Any, out: Any
) -> None:
    """One writer process: whole contestant lives, one command every ``1 / rate`` seconds.

    Only a nomination touches the shared allotments, so the mix is what a review and training
    day looks like rather than a stampede on one group cap. Each command's return instant
    (``time.monotonic``, the same clock in every process on this machine) and the log head just
    after it go to ``out``.
    """
    done: list[tuple[float, int]] = []
    mine: list[UUID] = []
    service = None
    try:
        service = build_service(settings)
        crowd = Crowd(100 + number, prefix=f"w{number}")
        interval = 1.0 / rate
        go.wait()
        next_at = time.monotonic()
        end = next_at + seconds
        step = 0
        while time.monotonic() < end:
            command = LIFE[step % len(LIFE)]
            if command == "nominate":
                person = crowd.next()
                staff = Actor("bench-staff", Role.CITY_STAFF, person.city)
                mine.append(
                    service.nominate(
                        campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=NOMINATING)
                    ).id
                )
            elif command == "verify":
                service.decide(mine[-1], decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
            elif command == "assign_training_account":
                service.decide(
                    mine[-1],
                    decisions.assign_training_account(f"t-{number}-{step}"),
                    DecisionContext(actor=ADMIN, at=TRAINING),
                )
            elif command == "record_training":
                service.decide(mine[-1], decisions.RECORD_TRAINING, DecisionContext(actor=JUDGE, at=TRAINED))
            else:
                service.decide(
                    mine[-1],
                    decisions.record_results(dict(SCORES)),
                    DecisionContext(actor=JUDGE, at=RESULTS_DAY),
                )
            done.append((time.monotonic(), service.last_notification_id()))
            step += 1
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    finally:
        out.put(done)  # even after a failure, so the main process is not left waiting
        if service is not None:
            service.close()


def steady(
    service: CampaignService,
    settings: Settings,
    rate: float,
    seconds: float,
    poll: float,
    writers: int,
    lines: list[str],
) -> None:
    """Commands at ``rate`` per second from ``writers`` processes while the runner follows here."""
    views = open_views(settings)
    campaign = launch(service, 1_000_000)
    context = multiprocessing.get_context("spawn")
    go, out = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=writer, args=(settings, campaign.id, n, rate / writers, seconds, go, out), daemon=True
        )
        for n in range(writers)
    ]
    reached: list[tuple[float, int]] = []  # (instant, position every view had reached)
    behind: list[int] = []
    stop = threading.Event()
    try:
        with ProjectionRunner(service, views.all, poll_seconds=poll) as runner:
            for process in processes:
                process.start()

            def follow() -> None:
                """Record each instant the slowest view moves, and how far behind the head it is."""
                last = -1
                while not stop.is_set():
                    slowest = min(runner.positions().values())
                    if slowest != last:
                        reached.append((time.monotonic(), slowest))
                        last = slowest
                    runner.changed(timeout=0.05)
                    behind.append(max(s.lag for s in runner.status()))

            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            time.sleep(5)  # the writers import and connect before the clock starts
            go.set()
            results = [out.get(timeout=seconds + 120) for _ in processes]
            for process in processes:
                process.join(30)
            if any(process.exitcode for process in processes):
                raise SystemExit(f"a writer failed (exit codes {[p.exitcode for p in processes]})")
            last_position = max((p for r in results for _, p in r), default=0)
            runner.wait(last_position, timeout=60)
            time.sleep(0.1)
    finally:
        stop.set()
        views.close()
    commands = [c for r in results for c in r]
    positions = [p for _, p in reached]
    latencies = [_seen_after(reached, positions, at, position) - at for at, position in commands]
    cuts = statistics.quantiles(latencies, n=100)
    achieved = len(commands) / seconds
    say(
        f"lag, command to all views ({len(commands)} commands from {writers} writer processes, asked "
        f"{rate:g}/s, achieved {achieved:.0f}/s; poll {poll * 1000:.0f} ms): p50 {cuts[49] * 1000:.0f} ms, "
        f"p99 {cuts[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms",
        lines,
    )
    gaps = statistics.quantiles(behind, n=100) if len(behind) > 1 else [0.0] * 99
    say(
        f"lag, head minus slowest view: p50 {gaps[49]:.0f}, p99 {gaps[98]:.0f}, "
        f"max {max(behind, default=0)} notifications",
        lines,
    )


def _seen_after(reached: list[tuple[float, int]], positions: list[int], at: float, position: int) -> float:
    """The first instant, not before ``at``, at which every view had reached ``position``."""
    index = bisect.bisect_left(positions, position)
    if index == len(reached):
        raise RuntimeError(f"the views never reached notification {position}")
    return max(at, reached[index][0])


def _postgres_store(dsn: str, schema: str | None, *, keep: bool) -> tuple[Settings, Callable[[], None]]:
    """A new schema (or the one given, its views emptied); dropped afterwards unless kept or given."""
    name = schema or f"bench_views_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')

    def cleanup() -> None:
        if not keep and not schema:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')

    return Settings.load(database_url=dsn, database_schema=name, pool_size=4), cleanup


def _sqlite_store(url: str, *, keep: bool) -> tuple[Settings, Callable[[], None]]:
    """The SQLite file given (topped up if it exists); its views file starts empty every run."""
    settings = Settings.load(database_url=url)

    def cleanup() -> None:
        if not keep:
            for path in settings.sqlite_path.parent.glob(settings.sqlite_path.stem + ".*"):
                path.unlink()

    return settings, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "dsn",
        help="PostgreSQL DSN (a fresh schema is created, then dropped) or sqlite:///FILE (embedded)",
    )
    parser.add_argument("--events", type=int, default=100_000, help="events to fill (national scale: 750000)")
    parser.add_argument("--chunk", type=int, default=200, help="contestants per save while filling")
    parser.add_argument("--batch", type=int, default=1000, help="events per view transaction in catch-up")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved catch-up rounds (median kept)")
    parser.add_argument("--rate", type=float, default=200.0, help="commands per second in the lag phase")
    parser.add_argument("--writers", type=int, default=4, help="writer processes in the lag phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lag phase")
    parser.add_argument(
        "--poll", type=float, default=0.1, help="runner poll interval in seconds (the worker's default)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema or file for inspection")
    parser.add_argument(
        "--schema", help="reuse this schema (kept by an earlier --keep run): fill only up to --events"
    )
    args = parser.parse_args()

    if args.dsn.startswith("sqlite:///"):
        settings, cleanup = _sqlite_store(args.dsn, keep=args.keep)
    else:
        if args.schema and not args.schema.startswith("bench"):
            parser.error("--schema: only a bench schema (named bench...) is reused: its views are dropped")
        settings, cleanup = _postgres_store(args.dsn, args.schema, keep=args.keep)
    lines: list[str] = [f"store: {settings.describe_store()}"]
    service = build_service(settings)
    try:
        fill(service, args.events, args.chunk, lines)
        catch_up(service, settings, args.batch, args.rounds, lines)
        steady(service, settings, args.rate, args.seconds, args.poll, args.writers, lines)
    finally:
        service.close()
        cleanup()
    figures.keep("projections", lines)


if __name__ == "__main__":
    main()
