"""Roster and quotas reads at a fixed rate against a real server: p50, p99 and errors beside a bare endpoint.

    .venv/bin/python -m bench.reads [--rate 200] [--seconds 10] [--rounds 2] \
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgres]

Per backend, a store is seeded (a reader with a token of its own, a campaign of 60
contestants), then ``zhanyou serve --no-scheduler`` serves it on a free port (uvicorn, every
middleware) beside a bare FastAPI endpoint served by uvicorn too. The load is open-loop:
request ``i`` is sent at ``start + i / rate`` whether or not earlier ones were answered, and
its latency runs from that scheduled instant, so time spent queueing counts. Targets take
turns (bare, roster, quotas, per round) so drift in the machine's load is shared. Figures are
printed and appended to bench/results/reads.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from api.auth import new_token, token_hash
from application.bootstrap import build_service
from application.settings import Settings
from bench.registration import ADMIN, LAUNCH, RESULTS, launch, nominate, person
from bench.streamed_body import _free_port
from domain.decision import DecisionContext
from domain.values import Group

CONTESTANTS = 60


@dataclass(frozen=True)
class Outcome:
    p50_ms: float
    p99_ms: float
    errors: int
    sent: int


def seed(settings: Settings) -> tuple[str, uuid.UUID]:
    """A reader's token and a campaign of ``CONTESTANTS`` contestants, written before the server starts."""
    reader = f"bench-reader-{uuid.uuid4().hex[:8]}"
    token = new_token(reader)
    service = build_service(settings)
    try:
        service.create_user(reader, "admin", None, token_hash(token), DecisionContext(actor=ADMIN, at=LAUNCH))
        campaign = launch(service)
        for n in range(CONTESTANTS):
            nominate(service, campaign, person(Group.TRAINEE), n)
    finally:
        service.close()
    return token, campaign


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the server for {url} did not start")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


@contextmanager
def serving(command: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_until_up(probe, server)
        yield
    finally:
        server.terminate()
        server.wait(10)


CONNECTIONS = 32


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One GET on a kept-alive connection: the status; the body is read and dropped."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def open_loop(url: str, headers: dict[str, str], rate: float, seconds: float) -> Outcome:
    """``rate * seconds`` GETs due on schedule; each latency runs from its due time.

    A small client of its own (kept-alive connections, no parsing beyond the status and the
    length), so the load generator costs far less than what it measures.
    """
    parts = httpx.URL(url)
    lines = [f"GET {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}"]
    request = "\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items()), "", ""]).encode()
    total = int(rate * seconds)
    due: asyncio.Queue[float] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        for _ in range(3):  # warm the connection and the caches (the token's, the views')
            await _get(reader, writer, request)
        await started.wait()
        while (when := await due.get()) >= 0:
            try:
                if await _get(reader, writer, request) != 200:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                reader, writer = await asyncio.open_connection(parts.host, parts.port)
            latencies.append(loop.time() - when)
        writer.close()

    started = asyncio.Event()
    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    await asyncio.sleep(1.0)
    started.set()
    first = loop.time()
    for i in range(total):
        when = first + i / rate
        await asyncio.sleep(max(0.0, when - loop.time()))
        due.put_nowait(when)
    for _ in workers:
        due.put_nowait(-1.0)
    await asyncio.gather(*workers)
    cuts = statistics.quantiles(latencies, n=100)
    return Outcome(statistics.median(latencies) * 1000, cuts[98] * 1000, errors, total)


def bench_backend(label: str, env: dict[str, str], settings: Settings, args: argparse.Namespace) -> list[str]:
    token, campaign = seed(settings)
    ours, yardstick = _free_port(), _free_port()
    zhanyou = str(Path(sys.executable).with_name("zhanyou"))
    ours_command = [zhanyou, "serve", "--port", str(ours), "--no-scheduler"]
    bare_command = [sys.executable, "-m", "uvicorn", "--factory", "bench.bare:bare_endpoint_app"]
    bare_command += ["--port", str(yardstick), "--log-level", "warning", "--no-access-log"]
    base = f"http://127.0.0.1:{ours}/api/campaigns/{campaign}"
    targets = {
        "bare endpoint": (f"http://127.0.0.1:{yardstick}/items/{uuid.uuid4()}", {}),
        "roster": (f"{base}/contestants", {"Authorization": f"Bearer {token}"}),
        "quotas": (f"{base}/quotas", {"Authorization": f"Bearer {token}"}),
    }
    found: dict[str, list[Outcome]] = {name: [] for name in targets}
    lines: list[str] = []
    with (
        serving(ours_command, env, f"http://127.0.0.1:{ours}/healthz"),
        serving(bare_command, env, targets["bare endpoint"][0]),
    ):
        reader = {"Authorization": f"Bearer {token}"}
        for _ in range(150):  # the views catch up at start: wait until they hold every contestant
            listed = httpx.get(f"{base}/contestants", headers=reader, timeout=10).json()
            if listed.get("total") == CONTESTANTS:
                break
            time.sleep(0.2)
        for round_number in range(1, args.rounds + 1):
            for name, (url, headers) in targets.items():
                outcome = asyncio.run(open_loop(url, headers, args.rate, args.seconds))
                found[name].append(outcome)
                lines.append(
                    f"{label} round {round_number} {name} at {args.rate:.0f}/s: p50 {outcome.p50_ms:.1f} ms, "
                    f"p99 {outcome.p99_ms:.1f} ms, {outcome.errors} errors of {outcome.sent}"
                )
                print(lines[-1], flush=True)
    for name, outcomes in found.items():
        p50 = statistics.median(o.p50_ms for o in outcomes)
        p99 = statistics.median(o.p99_ms for o in outcomes)
        errors = sum(o.errors for o in outcomes)
        lines.append(
            f"{label} {name} at {args.rate:.0f}/s: median p50 {p50:.1f} ms, median p99 {p99:.1f} ms "
            f"(p99s {', '.join(f'{o.p99_ms:.1f}' for o in outcomes)}), {errors} errors"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg", help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    lines: list[str] = []
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as scratch:
            url = f"sqlite:///{scratch}/events.db"
            env = {**os.environ, "ZHANYOU_DATABASE_URL": url}
            lines += bench_backend("sqlite", env, Settings.load(database_url=url), args)
    if args.pg and args.only != "sqlite":
        schema = f"bench_reads_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            env = {**os.environ, "ZHANYOU_DATABASE_URL": args.pg, "ZHANYOU_DATABASE_SCHEMA": schema}
            settings = Settings.load(database_url=args.pg, database_schema=schema)
            lines += bench_backend("postgres", env, settings, args)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (RESULTS / "reads.txt").open("a") as out:
        out.writelines(f"{stamp} {line}\n" for line in lines)


if __name__ == "__main__":
    main()
