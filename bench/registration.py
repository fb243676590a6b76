"""Registration day beside the bare library: every figure is a ratio measured in one run.

    .venv/bin/python -m bench.registration [--rounds 3] [--count 150] [--threads 16] \
        [--holders 6000] [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgres]

Per backend, ``--rounds`` interleaved rounds of (bare side, our side) each:

- one-thread nomination (contestant, account claim, city quota, group cap) against a bare
  save of 4 new aggregates; verify against a bare get-and-update;
- nomination into a group cap of ``--holders`` holders against one of 100 (same process);
- roster and quotas reads over HTTP against a bare FastAPI endpoint (both via TestClient);

then ``--threads`` threads nominating into one group cap: throughput against the one-thread
figure, p99, ``Contended`` refusals and retries per nomination. Medians of the per-round
ratios are printed and appended to bench/results/registration.txt.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from fastapi.testclient import TestClient
from openpyxl import Workbook
from stdnum.cn import ric

from api.app import create_app
from api.auth import new_token, token_hash
from api.config import ApiSettings
from application import decisions
from application.bootstrap import build_service
from application.errors import Contended
from application.imports import import_recommendations
from application.service import CampaignService
from application.settings import Settings
from bench import bare
from bench.figures import keep, scratch_schema
from cli.people import REGION_CODES
from domain.decision import DecisionContext
from domain.errors import DomainError
from domain.ids import allotment_id
from domain.places import Allotment, cap_scope
from domain.values import CITY_QUOTAS, Actor, Channel, Group, Person, Role
from node import Roles

ADMIN = Actor("bench-admin", Role.ADMIN)
LAUNCH = datetime(2021, 5, 8, 2, tzinfo=UTC)
NOMINATION_DAY = datetime(2021, 6, 8, 2, tzinfo=UTC)
REVIEW_DAY = datetime(2021, 7, 3, 2, tzinfo=UTC)
CITIES = list(CITY_QUOTAS)
_serials = iter(range(10**9))


def person(group: Group = Group.TRAINEE, city: str | None = None) -> Person:
    """A person never made before in this run: the serial fixes the ID number and the account."""
    serial = next(_serials)
    city = city or CITIES[serial % len(CITIES)]
    born = date(1970, 1, 1) + timedelta(days=serial // 1000)
    body = f"{REGION_CODES[city]}{born:%Y%m%d}{serial % 1000:03d}"
    return Person.parse(
        name="测试" + "甲乙丙丁戊己庚辛壬癸"[serial % 10],
        id_number=body + ric.calc_check_digit(body + "0"),
        mobile=f"138{serial:08d}",
        city=city,
        group=group.value,
        platform="douyin",
        account=f"bench_{serial}",
        followers=100,
    )


def launch(service: CampaignService) -> UUID:
    big = 10**6
    return service.launch_campaign(
        f"bench {uuid.uuid4()}",
        DecisionContext(actor=ADMIN, at=LAUNCH),
        quotas={city: {Group.TRAINEE: big, Group.VETERAN: big} for city in CITIES},
        caps=dict.fromkeys(Group, big),
    )


def nominate(service: CampaignService, campaign: UUID, who: Person, n: int) -> UUID:
    staff = Actor("bench", Role.CITY_STAFF, who.city)
    at = NOMINATION_DAY + timedelta(milliseconds=n)
    return service.nominate(campaign, who, Channel.RECOMMENDED, DecisionContext(actor=staff, at=at)).id


def seed_cap(service: CampaignService, campaign: UUID, group: Group, holders: int) -> None:
    """A group cap already holding ``holders`` places (snapshots taken as the service would)."""
    allotment = Allotment(campaign_id=campaign, scope=cap_scope(group), timestamp=NOMINATION_DAY)
    for n in range(holders):
        allotment.take(uuid.uuid4(), limit=10**6, refusal=DomainError("full"), at=NOMINATION_DAY)
        if n % 97 == 96:
            service.save(allotment)
    service.save(allotment)
    assert service.places_taken(campaign, cap_scope(group)) == holders
    assert service.repository.get(allotment_id(campaign, cap_scope(group))).version == holders + 1


def ours_nominate_rate(service: CampaignService, count: int) -> tuple[float, list[UUID]]:
    campaign = launch(service)
    crowd = [person(Group.TRAINEE) for _ in range(count)]
    ids: list[UUID] = []
    started = time.perf_counter()
    for n, who in enumerate(crowd):
        ids.append(nominate(service, campaign, who, n))
    return count / (time.perf_counter() - started), ids


def ours_verify_rate(service: CampaignService, ids: list[UUID]) -> float:
    return bare.rate(
        len(ids),
        lambda i: service.decide(ids[i], decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEW_DAY)),
    )


def family_rate(service: CampaignService, campaign: UUID, count: int) -> float:
    crowd = [person(Group.FAMILY) for _ in range(count)]
    return bare.rate(count, lambda i: nominate(service, campaign, crowd[i], i))


@contextmanager
def counting_conflicts(service: CampaignService) -> Iterator[list[int]]:
    """Counts saves refused by the store (each one a retry) while the block runs."""
    refused = [0]
    original = service.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        try:
            return original(*objs, **kwargs)
        except IntegrityError:
            refused[0] += 1
            raise

    service.save = save  # type: ignore[method-assign]
    try:
        yield refused
    finally:
        del service.save


def contended(service: CampaignService, threads: int, each: int) -> dict[str, float]:
    """``threads`` threads nominating trainees of every city: all share the trainee cap."""
    campaign = launch(service)
    crowds = [[person(Group.TRAINEE) for _ in range(each)] for _ in range(threads)]
    latencies: list[float] = []
    failed: list[Exception] = []
    barrier = threading.Barrier(threads)

    def worker(crowd: list[Person]) -> None:
        barrier.wait(timeout=60)
        for n, who in enumerate(crowd):
            started = time.perf_counter()
            try:
                nominate(service, campaign, who, n)
            except Contended as error:
                failed.append(error)
            latencies.append(time.perf_counter() - started)

    with counting_conflicts(service) as refused:
        pool = [threading.Thread(target=worker, args=(crowd,)) for crowd in crowds]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        seconds = time.perf_counter() - started
    total = threads * each
    return {
        "rate": total / seconds,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
        "contended": len(failed),
        "retries": refused[0] / total,
    }


def import_seconds(service: CampaignService, rows: int) -> float:
    """Seconds to import one city's 附件2 form (.xlsx) of ``rows`` new people."""
    campaign = launch(service)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["湖北省退役军人“全媒体运营师”培训成果展示暨“战友杯”直播大赛选手推荐表"])
    sheet.append(["推荐单位: 武汉市退役军人事务局 联系人: 王科长 参赛组别: 全媒体运营师学员组"])
    sheet.append(
        [
            "序号",
            "所在市(州)",
            "姓名",
            "身份证号",
            "手机号",
            "参赛直播平台及账号(只限填一个)",
            "粉丝数量",
            "备注",
        ]
    )
    for n in range(rows):
        who = person(Group.TRAINEE, city="武汉市")
        sheet.append(
            [
                n + 1,
                "武汉市",
                who.name,
                who.id_number.value,
                who.mobile.value,
                f"抖音: {who.account.handle}",
                "1.2万",
                "",
            ]
        )
    content = io.BytesIO()
    workbook.save(content)
    started = time.perf_counter()
    report = import_recommendations(
        service, campaign, content.getvalue(), "武汉.xlsx", actor=ADMIN, at=NOMINATION_DAY
    )
    seconds = time.perf_counter() - started
    assert report.counts["created"] == rows, report.counts
    return seconds


def http_rates(settings: Settings, count: int) -> tuple[float, float]:
    """Roster and quotas reads (a real user's token, a campaign of 60 contestants) in requests/s."""
    reader = f"bench-reader-{uuid.uuid4().hex[:8]}"
    token = new_token(reader)
    app = create_app(settings, ApiSettings.load(), roles=Roles(scheduler=False, projections=True))
    with TestClient(app) as client:
        service: CampaignService = app.state.service
        service.create_user(reader, "admin", None, token_hash(token), DecisionContext(actor=ADMIN, at=LAUNCH))
        campaign = launch(service)
        for n in range(60):
            nominate(service, campaign, person(Group.TRAINEE), n)
        app.state.node.projection_runner.wait(service.last_notification_id(), timeout=60)
        headers = {"Authorization": f"Bearer {token}"}

        def get(path: str) -> Callable[[int], None]:
            return lambda _: client.get(path, headers=headers).raise_for_status()

        roster = bare.rate(count, get(f"/api/campaigns/{campaign}/contestants"))
        quotas = bare.rate(count, get(f"/api/campaigns/{campaign}/quotas"))
    return roster, quotas


def bench_backend(label: str, settings: Settings, args: argparse.Namespace, lines: list[str]) -> None:
    def say(text: str) -> None:
        lines.append(f"{label} {text}")
        print(lines[-1], flush=True)

    service = build_service(settings)
    yardstick = bare.bare_application(settings.eventsourcing_env())
    try:
        small, large = launch(service), launch(service)
        seed_cap(service, small, Group.FAMILY, 100)
        seed_cap(service, large, Group.FAMILY, args.holders)
        ratios: dict[str, list[float]] = {}
        for round_number in range(1, args.rounds + 1):
            save4 = bare.save_four_rate(yardstick, args.count)
            nominated, ids = ours_nominate_rate(service, args.count)
            update = bare.get_and_update_rate(yardstick, args.count)
            verified = ours_verify_rate(service, ids)
            if round_number % 2:  # alternate which goes first, so drift in load is shared
                at_small = family_rate(service, small, args.count)
                at_large = family_rate(service, large, args.count)
            else:
                at_large = family_rate(service, large, args.count)
                at_small = family_rate(service, small, args.count)
            endpoint = bare.bare_endpoint_rate(args.count)
            roster, quotas = http_rates(settings, args.count)
            found = {
                "nominate/bare-save-4": nominated / save4,
                "verify/bare-get-and-update": verified / update,
                f"cost at {args.holders} holders / at 100": at_small / at_large,
                "roster/bare-endpoint": roster / endpoint,
                "quotas/bare-endpoint": quotas / endpoint,
            }
            for key, value in found.items():
                ratios.setdefault(key, []).append(value)
            say(
                f"round {round_number}: nominate {nominated:.0f}/s, bare save-4 {save4:.0f}/s, "
                f"verify {verified:.0f}/s, bare get-and-update {update:.0f}/s, family at 100 "
                f"{at_small:.0f}/s, at {args.holders} {at_large:.0f}/s, roster {roster:.0f}/s, "
                f"quotas {quotas:.0f}/s, bare endpoint {endpoint:.0f}/s"
            )
        for key, values in ratios.items():
            say(f"{key}: median {statistics.median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)})")
        say(f"import of a {args.import_rows}-row form: {import_seconds(service, args.import_rows):.1f} s")
        one_thread, _ = ours_nominate_rate(service, args.count)
        crowd = contended(service, args.threads, args.each)
        say(
            f"{args.threads} threads into one group cap: {crowd['rate']:.0f}/s "
            f"({crowd['rate'] / one_thread:.2f}x one thread's {one_thread:.0f}/s), "
            f"p99 {crowd['p99_ms']:.0f} ms, {crowd['contended']:.0f} Contended, "
            f"{crowd['retries']:.2f} retries per nomination"
        )
    finally:
        yardstick.close()
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=150, help="operations per figure per round")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--each", type=int, default=25, help="nominations per thread")
    parser.add_argument("--holders", type=int, default=6000)
    parser.add_argument("--import-rows", type=int, default=1500)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    lines: list[str] = []
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as scratch:
            bench_backend("sqlite", Settings.load(database_url=f"sqlite:///{scratch}/bench.db"), args, lines)
    if args.pg and args.only != "sqlite":
        with scratch_schema(args.pg) as schema:
            settings = Settings.load(database_url=args.pg, database_schema=schema, pool_size=args.threads)
            bench_backend("postgres", settings, args, lines)
    keep("registration", lines)


if __name__ == "__main__":
    main()
