"""A campaign-wide as-of read at 3,000 contestants and about 50,000 events: p50 and p99.

    .venv/bin/python -m bench.asof [--contestants 3000] [--events 50000] [--reads 30] [--cold] [--pg DSN]

1. Fills a fresh store (an SQLite file in a scratch folder; with ``--pg`` a fresh schema of
   that database, dropped afterwards; encrypted at rest either way, as a new store is) with
   one campaign on the hubei-2021 timeline, through the real aggregates, 100 contestants per
   save: each contestant nominated by their city's staff in June, their numbers read by the
   staff (each read recorded), reviewed (some rejected, some of those reconsidered),
   enrolled, trained, scored several times during the contest (until the log holds about
   ``--events`` events), a few withdrawn, seven per city picked for the city's team and
   some of them awarded, every decision at an instant of its own inside its window.
2. Serves the real app in this process (the whole HTTP stack, through its ASGI interface)
   and, at ``--reads`` instants spread from the first nomination to the ceremony, reads
   with ``?as_of=`` the campaign, every page of the roster (1,000 a page) and the quotas.
   Each instant's first roster page replays the log up to that instant; the other requests
   of the same read use that replay. The first read of the run also decodes the campaign's events and
   unwraps every person's data key, which later reads find kept.

3. With ``--cold``, first starts the app afresh in a new process of its own (nothing decoded,
   no data key unwrapped) three times and times its first as-of read (the campaign, every
   roster page and the quotas at the ceremony): without the start-up warm-up; with it, read
   right after start (no warm-up time: the read waits for what is left of it); and with it,
   read once it has ended. The start-up's own seconds are printed beside each.

Prints p50 and p99 of the whole read and of its replaying request, and appends them to
bench/results/asof.txt (the load average beside them: the machine may be shared).
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from bench.figures import keep, scratch_schema
from bench.projections import Crowd
from domain.access import PersonalDataLog
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.enrolment import contestant_scopes, free_places, take_places
from domain.places import AccountClaim, Allotment
from domain.team import CityTeam, TeamRole
from domain.timeline import SHANGHAI
from domain.values import CITY_QUOTAS, SCHEDULER, Actor, Channel, Group, Role
from node import Roles, Tuning

TOKEN = "bench-asof-bootstrap-token-0123456789"  # noqa: S105 - the bench's own throwaway store
ADMIN = Actor("bench-admin", Role.ADMIN)
JUDGE = Actor("bench-judge", Role.JUDGE)
SCORES = ("short_video", "account_operation", "livestream_selling")
CHUNK = 100


def shanghai(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2021, month, day, hour, tzinfo=SHANGHAI)


LAUNCH = shanghai(5, 20, 9)
WINDOWS = {  # where each decision falls, inside the notice's windows (hubei-2021)
    "nominate": (shanghai(6, 7, 9), shanghai(6, 30, 18)),
    "review": (shanghai(6, 20, 9), shanghai(7, 9, 18)),
    "enrol": (shanghai(7, 10, 9), shanghai(7, 16, 18)),
    "train": (shanghai(7, 17, 9), shanghai(7, 19, 18)),
    "score": (shanghai(7, 20, 9), shanghai(8, 31, 18)),
    "pick": (shanghai(9, 1, 9), shanghai(9, 5, 18)),
    "award": (shanghai(9, 15, 19), shanghai(9, 15, 22)),
}
FIRST, LAST = WINDOWS["nominate"][0], shanghai(9, 16)


class Life:
    """Instants of one contestant's decisions, each after the one before, inside its window."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.last = FIRST

    def at(self, window: str) -> datetime:
        start, end = WINDOWS[window]
        start = max(start, self.last + timedelta(minutes=1))
        if start >= end:
            start = end - timedelta(seconds=1)
        self.last = start + (end - start) * self.rng.random() * 0.7
        return self.last


def launch(service: CampaignService, contestants: int) -> Campaign:
    places = contestants // len(CITY_QUOTAS) + 1
    quotas = {city: {Group.TRAINEE: places, Group.VETERAN: places} for city in CITY_QUOTAS}
    campaign_id = service.launch_campaign(
        f"bench as-of {uuid.uuid4()}",
        DecisionContext(actor=ADMIN, at=LAUNCH),
        quotas=quotas,
        caps=dict.fromkeys(Group, contestants),
    )
    for at in (WINDOWS["nominate"][0], WINDOWS["enrol"][0], WINDOWS["score"][0], WINDOWS["pick"][0]):
        service.record_due_boundaries(campaign_id, DecisionContext(actor=SCHEDULER, at=at))
    return service.get_campaign(campaign_id)


def fill(service: CampaignService, contestants: int, events: int) -> Campaign:
    """One campaign of ``contestants`` lives and about ``events`` events; returns it."""
    rng = random.Random(14)
    crowd = Crowd(14, prefix="asof")
    campaign = launch(service, contestants)
    allotments: dict[str, Allotment] = {}
    teams: dict[str, CityTeam] = {}
    # Events per contestant without the score corrections: nomination, claim, 1-2 places, the
    # read log and its reads, review, enrolment, training; the rest are scores.
    base = 10
    scorings = max(1, round((events - service.last_notification_id()) / contestants) - base)
    done = 0
    while done < contestants:
        batch: list[Any] = []
        for _ in range(min(CHUNK, contestants - done)):
            batch += life(service, campaign, crowd.next(), rng, scorings, allotments, teams)
            done += 1
        service.save(*batch, *allotments.values(), *teams.values())
    service.record_due_boundaries(campaign.id, DecisionContext(actor=SCHEDULER, at=LAST))
    return service.get_campaign(campaign.id)


def life(
    service: CampaignService,
    campaign: Campaign,
    person: Any,
    rng: random.Random,
    scorings: int,
    allotments: dict[str, Allotment],
    teams: dict[str, CityTeam],
) -> list[Any]:
    when = Life(rng)
    staff = Actor(f"staff-{person.city}", Role.CITY_STAFF, person.city)
    at = when.at("nominate")
    c = Contestant.nominate(
        campaign,
        person,
        Channel.RECOMMENDED,
        DecisionContext(actor=staff, at=at),
        person_key=service.pseudonym(person.id_number.value),
    )
    claim = AccountClaim.claim(campaign.id, service.pseudonym(person.account.key), c.id, at)
    for scope in contestant_scopes(c):
        allotments.setdefault(scope, Allotment(campaign_id=campaign.id, scope=scope, timestamp=at))
    take_places(c, campaign, allotments, at)
    reads = PersonalDataLog(contestant_id=c.id, timestamp=at)
    for _ in range(2):
        reads.read(city=c.city, fields=["id_number", "mobile"], actor=staff, at=when.at("nominate"))
    mine = {scope: allotments[scope] for scope in contestant_scopes(c)}
    if rng.random() < 0.06:
        c.reject(campaign, DecisionContext(actor=ADMIN, at=when.at("review"), reason="材料不全"))
        free_places(c, mine, None, when.last)
        if rng.random() < 0.6:
            return [c, claim, reads]
        c.reconsider(campaign, DecisionContext(actor=ADMIN, at=when.at("review"), reason="补交材料"))
        take_places(c, campaign, mine, when.last)
    c.verify(campaign, DecisionContext(actor=ADMIN, at=when.at("review"), reason="材料齐全"))
    enrolment = DecisionContext(actor=ADMIN, at=when.at("enrol"))
    c.assign_training_account(campaign, enrolment, f"t-{c.id.hex[:12]}")
    c.record_training(campaign, DecisionContext(actor=JUDGE, at=when.at("train")))
    for n in range(scorings):
        scores = {name: round(rng.uniform(50, 100), 1) for name in SCORES}
        reason = "复核更正" if n else None  # recorded again: a correction, with its reason
        c.record_results(campaign, DecisionContext(actor=JUDGE, at=when.at("score"), reason=reason), scores)
    if rng.random() < 0.03:
        c.withdraw(campaign, DecisionContext(actor=staff, at=when.at("pick"), reason="本人申请退出"))
        free_places(c, mine, None, when.last)
        return [c, claim, reads]
    team = teams.get(c.city)
    if team is None or len(team.members) < 7:
        team = teams.setdefault(c.city, CityTeam(campaign_id=campaign.id, city=c.city, timestamp=at))
        role = TeamRole.ASSISTANT if not team.members else TeamRole.STREAMER
        c.advance(campaign, DecisionContext(actor=staff, at=when.at("pick")), team, role)
        if rng.random() < 0.5:
            prize = rng.choice(("一等奖", "二等奖", "三等奖", "优秀奖"))
            c.award_prize(campaign, DecisionContext(actor=ADMIN, at=when.at("award")), prize)
    return [c, claim, reads]


@contextmanager
def store(pg: str | None) -> Iterator[Settings]:
    """A fresh store: a scratch SQLite file, or a schema of its own in the PostgreSQL database."""
    keys = {
        "cipher_key": base64.b64encode(os.urandom(32)).decode(),
        "id_secret": base64.b64encode(os.urandom(32)).decode(),
        "signing_key": base64.b64encode(os.urandom(32)).decode(),
    }
    with tempfile.TemporaryDirectory() as scratch:
        erasures = Path(scratch) / "erasures.jsonl"
        if pg is None:
            yield Settings.load(database_url=f"sqlite:///{scratch}/bench.db", erasure_list=erasures, **keys)
            return
        with scratch_schema(pg, prefix="bench_asof") as schema:
            yield Settings.load(database_url=pg, database_schema=schema, erasure_list=erasures, **keys)


def read_all(client: TestClient, campaign_id: uuid.UUID, as_of: str) -> tuple[float, float, int]:
    """The campaign, every roster page and the quotas at ``as_of``.

    Returns the whole read's seconds, its replaying request's (the roster's first page) and the
    roster's rows.
    """
    headers = {"Authorization": f"Bearer {TOKEN}"}
    base = f"/api/campaigns/{campaign_id}"
    started = time.perf_counter()
    campaign = client.get(base, params={"as_of": as_of}, headers=headers)
    assert campaign.status_code == 200, campaign.text
    rows, page, replaying = 0, 1, 0.0
    while True:
        asked = time.perf_counter()
        answer = client.get(
            f"{base}/contestants", params={"as_of": as_of, "page": page, "page_size": 1000}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        replaying = replaying or time.perf_counter() - asked
        body = answer.json()
        rows += len(body["contestants"])
        if rows >= body["total"] or not body["contestants"]:
            break
        page += 1
    quotas = client.get(f"{base}/quotas", params={"as_of": as_of}, headers=headers)
    assert quotas.status_code == 200, quotas.text
    return time.perf_counter() - started, replaying, rows


def first_read(
    settings: Settings, campaign_id: uuid.UUID, warm_up: bool, wait: bool
) -> tuple[float, float, float]:
    """In a fresh process: the start-up's seconds, the warm-up's (0 when not waited for) and the
    first as-of read's."""
    app = create_app(
        settings,
        ApiSettings.load(bootstrap_token=TOKEN),
        roles=Roles(scheduler=False, projections=False),
        tuning=Tuning(as_of_warm_up=warm_up),
    )
    started = time.perf_counter()
    with TestClient(app) as client:
        ready = time.perf_counter() - started
        waited = time.perf_counter()
        if wait:
            assert app.state.node.as_of.warmed(timeout=120), "the warm-up did not end"
        waited = time.perf_counter() - waited if wait else 0.0
        seconds, _, _ = read_all(client, campaign_id, LAST.isoformat())
    return ready, waited, seconds


def cold_reads(name: str, settings: Settings, campaign_id: uuid.UUID) -> list[str]:
    lines = []
    spawn = multiprocessing.get_context("spawn")  # nothing decoded, no key unwrapped, no import warm
    for label, warm_up, wait in (
        ("without warm-up", False, False),
        ("with warm-up, read right after start", True, False),
        ("with warm-up, read after it ended", True, True),
    ):
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            ready, waited, seconds = pool.submit(first_read, settings, campaign_id, warm_up, wait).result()
        extra = f", warm-up {waited:.2f} s before it" if wait else ""
        lines.append(
            f"{name} first as-of read in a fresh process, {label}: {seconds:.2f} s "
            f"(start-up {ready:.2f} s{extra}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
        print(lines[-1], flush=True)
    return lines


def bench(
    name: str, settings: Settings, contestants: int, events: int, reads: int, *, cold: bool = False
) -> list[str]:
    service = build_service(settings)
    try:
        started = time.perf_counter()
        campaign = fill(service, contestants, events)
        head = service.last_notification_id()
        filled = time.perf_counter() - started
    finally:
        service.close()
    lines = [f"{name} fill: {contestants} contestants, {head} events in {filled:.0f} s"]
    print(lines[-1], flush=True)
    if cold:
        lines += cold_reads(name, settings, campaign.id)
    app = create_app(
        settings,
        ApiSettings.load(bootstrap_token=TOKEN),
        roles=Roles(scheduler=False, projections=False),  # as-of reads never read the live views
        tuning=Tuning(as_of_warm_up=False),  # the run's first read decodes everything, as it is timed
    )
    span = LAST - FIRST
    instants = [(FIRST + span * (n + 1) / reads).isoformat() for n in range(reads)]
    random.Random(1).shuffle(instants)
    with TestClient(app) as client:
        run_first, _, _ = read_all(client, campaign.id, LAST.isoformat())
        whole: list[float] = []
        firsts: list[float] = []
        sizes: list[int] = []
        for instant in instants:
            seconds, first, rows = read_all(client, campaign.id, instant)
            whole.append(seconds)
            firsts.append(first)
            sizes.append(rows)
    cut = statistics.quantiles(whole, n=100, method="inclusive")
    cut_first = statistics.quantiles(firsts, n=100, method="inclusive")
    lines += [
        f"{name} as-of read (campaign + {max(sizes)} roster rows in pages of 1000 + quotas), "
        f"{reads} instants: p50 {cut[49]:.2f} s, p99 {cut[98]:.2f} s, max {max(whole):.2f} s; "
        f"of which the replaying request (the roster's first page) p50 {cut_first[49]:.2f} s, "
        f"p99 {cut_first[98]:.2f} s; "
        f"the run's first read (every event decoded, every data key unwrapped) {run_first:.2f} s "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
    ]
    print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contestants", type=int, default=3000)
    parser.add_argument("--events", type=int, default=50_000, help="about this many events in the log")
    parser.add_argument("--reads", type=int, default=30, help="as-of reads, each at an instant of its own")
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="also time the first read in fresh processes, with and without warm-up",
    )
    args = parser.parse_args()
    if args.reads < 2:
        parser.error("--reads: at least 2, for a p50 and a p99")
    with store(args.pg) as settings:
        name = "postgres" if args.pg else "sqlite"
        lines = bench(name, settings, args.contestants, args.events, args.reads, cold=args.cold)
    keep("asof", lines)


if __name__ == "__main__":
    main()
