"""Verification throughput of the hash chain on SQLite and PostgreSQL.

    .venv/bin/python -m bench.verify [--events 200000] [--pg postgresql://...]

Fills a fresh store with ``--events`` events through the real recorder (so every link is
computed by the code that computes it in production), in batches of 1,000, each shaped
like a stored nomination (same topic, state of a nomination's size); then runs the whole
verification (``zhanyou verify``'s code: read both tables, recompute every link, check
the signed checkpoint) and prints events/s and the time extrapolated to 1,000,000 events.
Figures are appended to bench/results/verify.txt.
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime

from eventsourcing.persistence import StoredEvent

from application.bootstrap import build_service
from application.settings import Settings
from bench.figures import keep, scratch_schema
from ledger.operations import take_checkpoint, verify

BATCH = 1000
STATE_BYTES = 700  # a stored nomination (JSON of person, decision, timestamp) is about this size
TOPIC = "domain.contestant:Contestant.Nominated"


def fill(settings: Settings, events: int) -> float:
    """Insert ``events`` through the recorder; returns the insert rate (events/s)."""
    service = build_service(settings)
    padding = os.urandom(STATE_BYTES // 2).hex().encode()
    started = time.perf_counter()
    try:
        for first in range(0, events, BATCH):
            batch = [
                StoredEvent(uuid.uuid4(), 1, TOPIC, b'{"n":%d,"p":"' % n + padding + b'"}')
                for n in range(first, min(first + BATCH, events))
            ]
            service.recorder.insert_events(batch)
    finally:
        service.close()
    return events / (time.perf_counter() - started)


def bench(name: str, settings: Settings, events: int, lines: list[str]) -> None:
    rate = fill(settings, events)
    take_checkpoint(settings, reason="bench", signer="bench", at=datetime.now(UTC))
    started, cpu = time.perf_counter(), time.process_time()
    result = verify(settings, record=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.ok, result
    assert result.count == events, result
    lines += [
        f"{name} insert with chain: {rate:,.0f} events/s ({events} events, batches of {BATCH})",
        f"{name} verify: {events / seconds:,.0f} events/s ({events} events in {seconds:.1f} s, "
        f"{cpu:.1f} s of it this process's CPU; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); "
        f"extrapolated to 1,000,000 events: {1_000_000 * seconds / events:.0f} s",
    ]
    print(*lines[-2:], sep="\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    args = parser.parse_args()
    key = base64.b64encode(os.urandom(32)).decode()
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings.load(database_url=f"sqlite:///{scratch}/bench.db", signing_key=key)
        bench("sqlite", settings, args.events, lines)
    if args.pg:
        with scratch_schema(args.pg) as schema:
            settings = Settings.load(database_url=args.pg, database_schema=schema, signing_key=key)
            bench("postgres", settings, args.events, lines)
    keep("verify", lines)


if __name__ == "__main__":
    main()
