"""Timing of public self-registration: taken, repeating an ID number, repeating an account.

    .venv/bin/python -m bench.registrations [--people 200] [--pg postgresql://...]

The three answers are alike (202 with a receipt); this prints how alike their timing is
(p50 and p90 per kind, in ms), on the embedded SQLite store and, given a DSN, PostgreSQL.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from pydantic import SecretStr

from application.bootstrap import build_service
from application.registration import register
from application.settings import Settings
from bench.commands import ADMIN, NOMINATION_DAY, people
from bench.figures import scratch_schema
from domain.decision import DecisionContext
from domain.timeline import PhaseCode
from domain.values import Account, Actor, Person, Role

PUBLIC = Actor("public", Role.PUBLIC)


def _with_account(person: Person, handle: str) -> Person:
    return dataclasses.replace(person, account=Account.parse(person.account.platform.value, handle))


def bench_store(name: str, settings: Settings, count: int) -> None:
    crowd = people(2 * count)
    first, second = crowd[:count], crowd[count:]
    service = build_service(settings)
    try:
        campaign = service.launch_campaign(
            f"bench {uuid.uuid4()}", DecisionContext(actor=ADMIN, at=NOMINATION_DAY - timedelta(days=30))
        )
        service.open_phase(
            campaign,
            PhaseCode.SELF_REGISTRATION,
            DecisionContext(actor=ADMIN, at=NOMINATION_DAY, reason="bench"),
        )
        step = iter(range(1, 10 * count))

        def timings(batch: list[Person]) -> list[float]:
            found = []
            for person in batch:
                at = NOMINATION_DAY + timedelta(seconds=next(step))
                started = time.perf_counter()
                register(service, campaign, person, DecisionContext(actor=PUBLIC, at=at))
                found.append((time.perf_counter() - started) * 1000)
            return found

        kinds: list[tuple[str, Callable[[], list[float]]]] = [
            ("taken", lambda: timings(first)),
            (
                "repeated ID number",
                lambda: timings([_with_account(p, f"x{p.account.handle}") for p in first]),
            ),
            (
                "repeated account",
                lambda: timings(
                    [_with_account(q, p.account.handle) for p, q in zip(first, second, strict=True)]
                ),
            ),
        ]
        for kind, run in kinds:
            values = run()
            cuts = statistics.quantiles(values, n=10)
            print(
                f"{name} register, {kind}: p50 {statistics.median(values):.2f} ms, p90 {cuts[8]:.2f} ms",
                flush=True,
            )
    finally:
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    args = parser.parse_args()
    keys = {"cipher_key": SecretStr(_key()), "id_secret": SecretStr("bench id secret, long enough to do")}
    with tempfile.TemporaryDirectory() as scratch:
        bench_store(
            "sqlite", Settings.load(database_url=f"sqlite:///{scratch}/bench.db", **keys), args.people
        )
    if args.pg:
        with scratch_schema(args.pg) as schema:
            bench_store(
                "postgres", Settings.load(database_url=args.pg, database_schema=schema, **keys), args.people
            )


def _key() -> str:
    from eventsourcing.cipher import AESCipher

    return AESCipher.create_key(32)


if __name__ == "__main__":
    main()
