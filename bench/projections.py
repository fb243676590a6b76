"""Projection throughput and lag on PostgreSQL.

    .venv/bin/python -m bench.projections postgresql://USER@HOST:PORT/DB [--events 100000] \
        [--rate 40] [--seconds 20] [--batch 1000]

(Run it as a module: as a script, this file's name would shadow the ``projections`` package.)

1. Fills a fresh schema with a campaign-like event volume: several campaigns whose
   contestants are nominated, verified, enrolled, trained and scored through the real
   aggregates (saved a few hundred at a time, so the fill itself is quick).
2. Measures catch-up: every view built from an empty start to the head, in events/s.
3. Runs nominations at a steady rate against the service while the runner follows, and
   measures lag: from a command's return to every view having processed its events
   (milliseconds, p50/p99), and the log head minus the slowest view's position (notifications).

Prints one line per figure and appends them to bench/results/projections.txt. The schema is
dropped afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from cli.people import fake_person
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.enrolment import contestant_scopes, take_places
from domain.places import AccountClaim, Allotment
from domain.timeline import SHANGHAI
from domain.values import CITY_QUOTAS, Actor, Channel, Group, Person, Role
from projections import open_views
from projections.runner import ProjectionRunner

RESULTS = Path(__file__).parent / "results"
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
        f"bench {uuid.uuid4()}", actor=ADMIN, at=LAUNCH, quotas=big, caps=dict.fromkeys(Group, people * 2)
    )
    service.record_due_boundaries(campaign_id, at=NOMINATING)
    return service.get_campaign(campaign_id)


class Crowd:
    """Made-up people with unique ID numbers and accounts."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
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
            return Person.parse(
                name=fake.name, id_number=fake.id_number, mobile=fake.mobile, city=fake.city,
                group=fake.group, platform=fake.platform, account=f"bench_{self.serial:08d}",
                followers=fake.followers,
            )  # fmt: skip


def fill(service: CampaignService, events: int, chunk: int, lines: list[str]) -> None:
    """Whole contestant lives through the real aggregates, saved ``chunk`` contestants at a time."""
    crowd = Crowd(7)
    started = time.perf_counter()
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
                    campaign, person, Channel.RECOMMENDED, person_key=key, actor=staff, at=NOMINATING
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
                c.verify(campaign, actor=ADMIN, at=REVIEWING, reason="材料齐全")
                c.assign_training_account(campaign, f"t-{crowd.serial}", actor=ADMIN, at=TRAINING)
                c.record_training(campaign, actor=JUDGE, at=TRAINED)
                c.record_results(campaign, dict(SCORES), actor=JUDGE, at=RESULTS_DAY)
                batch += [c, claim]
            service.save(*batch, *allotments.values())  # type: ignore[arg-type]
            if int(service.recorder.max_notification_id() or 0) >= events:
                break
    head = int(service.recorder.max_notification_id() or 0)
    seconds = time.perf_counter() - started
    say(f"fill: {head} events in {seconds:.1f} s ({head / seconds:,.0f} events/s written)", lines)


def catch_up(service: CampaignService, settings: Settings, batch: int, lines: list[str]) -> None:
    views = open_views(settings)
    try:
        runner = ProjectionRunner(service, views.all, batch_size=batch)
        head = int(service.recorder.max_notification_id() or 0)
        started = time.perf_counter()
        runner.catch_up(timeout=3600)
        seconds = time.perf_counter() - started
        say(
            f"catch-up, all {len(views.all)} views together: {head} events in {seconds:.1f} s "
            f"= {head / seconds:,.0f} events/s (batch {batch})",
            lines,
        )
    finally:
        views.close()


def steady(
    service: CampaignService, settings: Settings, rate: float, seconds: float, poll: float, lines: list[str]
) -> None:
    """Nominations at ``rate`` per second while the runner follows in the background."""
    views = open_views(settings)
    crowd = Crowd(11)
    campaign = launch(service, 100_000)
    latencies: list[float] = []
    behind: list[int] = []
    done = threading.Event()
    try:
        with ProjectionRunner(service, views.all, poll_seconds=poll) as runner:

            def sample() -> None:
                while not done.wait(0.05):
                    status = runner.status()
                    behind.append(max(s.lag for s in status))

            sampler = threading.Thread(target=sample)
            sampler.start()
            interval = 1.0 / rate
            next_at = time.perf_counter()
            end = next_at + seconds
            commands = 0
            while time.perf_counter() < end:
                person = crowd.next()
                staff = Actor("bench-staff", Role.CITY_STAFF, person.city)
                service.nominate(campaign.id, person, Channel.RECOMMENDED, actor=staff, at=NOMINATING)
                returned = time.perf_counter()
                position = int(service.recorder.max_notification_id() or 0)
                runner.wait(position, timeout=60)
                latencies.append(time.perf_counter() - returned)
                commands += 1
                next_at += interval
                pause = next_at - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            done.set()
            sampler.join()
    finally:
        views.close()
    cuts = statistics.quantiles(latencies, n=100)
    say(
        f"lag, command to all views ({commands} nominations at {rate:g}/s, poll {poll * 1000:.0f} ms): "
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms",
        lines,
    )
    gaps = statistics.quantiles(behind, n=100) if len(behind) > 1 else [0.0] * 99
    say(
        f"lag, head minus slowest view (sampled every 50 ms): p50 {gaps[49]:.0f}, p99 {gaps[98]:.0f}, "
        f"max {max(behind, default=0)} notifications",
        lines,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dsn", help="PostgreSQL DSN; a fresh schema is created (and dropped)")
    parser.add_argument(
        "--events", type=int, default=100_000, help="events to fill (the issue's target: 750000)"
    )
    parser.add_argument("--chunk", type=int, default=200, help="contestants per save while filling")
    parser.add_argument("--batch", type=int, default=1000, help="events per view transaction in catch-up")
    parser.add_argument("--rate", type=float, default=40.0, help="nominations per second in the lag phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the lag phase")
    parser.add_argument("--poll", type=float, default=0.05, help="runner poll interval in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the schema for inspection")
    args = parser.parse_args()

    schema = f"bench_views_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    lines: list[str] = []
    settings = Settings.load(database_url=args.dsn, database_schema=schema, pool_size=4)
    service = build_service(settings)
    try:
        fill(service, args.events, args.chunk, lines)
        catch_up(service, settings, args.batch, lines)
        steady(service, settings, args.rate, args.seconds, args.poll, lines)
    finally:
        service.close()
        if not args.keep:
            with psycopg.connect(args.dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (RESULTS / "projections.txt").open("a") as out:
        out.writelines(f"{stamp} {line}\n" for line in lines)


if __name__ == "__main__":
    main()
