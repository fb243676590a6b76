"""Roster and quotas reads at a fixed rate against a real server: p50, p99 and errors beside a bare endpoint.

    .venv/bin/python -m bench.reads [--rate 200] [--seconds 10] [--rounds 2] [--capacity-seconds 3] \
        [--writes 0] [--baseline /work/main] [--uncached] \
        [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgres]

Per backend, a store is seeded (a reader with a token of its own, a campaign of 60
contestants), then ``zhanyou serve --no-scheduler`` serves it on a free port (uvicorn, every
middleware) beside a bare FastAPI endpoint served by uvicorn too. The load is open-loop:
request ``i`` is sent at ``start + i / rate`` whether or not earlier ones were answered, and
its latency runs from that scheduled instant, so time spent queueing counts. Capacity is
measured closed-loop (``CONNECTIONS`` kept-alive connections, each sending its next request as
soon as the last is answered, for ``--capacity-seconds``): requests per second per target, and
roster and quotas as a ratio to the bare endpoint measured in the same round. Targets take
turns (bare, roster, quotas, per round) so drift in the machine's load is shared; with
``--baseline`` another checkout's code serves the same store in its turn (before and after in
one run), with ``--uncached`` this checkout's does with no answer kept (every read a miss).
With ``--writes``, nominations go into the read campaign at that rate while every target is
measured, so the views move on under the reads. Figures are printed and appended to
bench/results/reads.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.auth import new_token, token_hash
from application.bootstrap import build_service
from application.settings import Settings
from bench.figures import keep, scratch_schema
from bench.registration import ADMIN, LAUNCH, launch, nominate, person
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


def _request(url: str, headers: dict[str, str]) -> bytes:
    parts = httpx.URL(url)
    lines = [f"GET {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}"]
    return "\r\n".join([*lines, *(f"{k}: {v}" for k, v in headers.items()), "", ""]).encode()


async def open_loop(url: str, headers: dict[str, str], rate: float, seconds: float) -> Outcome:
    """``rate * seconds`` GETs due on schedule; each latency runs from its due time.

    A small client of its own (kept-alive connections, no parsing beyond the status and the
    length), so the load generator costs far less than what it measures.
    """
    parts = httpx.URL(url)
    request = _request(url, headers)
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


async def closed_loop(url: str, headers: dict[str, str], seconds: float) -> float:
    """Requests answered per second when every connection sends again as soon as it is answered."""
    request = _request(url, headers)
    parts = httpx.URL(url)
    loop = asyncio.get_running_loop()
    answered = 0

    async def connection(until: float) -> None:
        nonlocal answered
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        for _ in range(3):
            await _get(reader, writer, request)
        await started.wait()
        while loop.time() < until:
            if await _get(reader, writer, request) == 200:
                answered += 1
        writer.close()

    started = asyncio.Event()
    until = loop.time() + 1.0 + seconds
    workers = [asyncio.create_task(connection(until)) for _ in range(CONNECTIONS)]
    await asyncio.sleep(1.0)
    first = loop.time()
    started.set()
    await asyncio.gather(*workers)
    return answered / (loop.time() - first)


def _caught_up(base: str, token: str, written: int) -> None:
    """Until the roster holds every contestant and no view lags (their catch-up at start would
    share the machine with the reads measured)."""
    reader = {"Authorization": f"Bearer {token}"}
    metrics = base.split("/api/", 1)[0] + "/metrics"
    for _ in range(150):
        listed = httpx.get(f"{base}/contestants", headers=reader, timeout=10).json()
        lags = [
            line.rsplit(" ", 1)[1]
            for line in httpx.get(metrics, headers=reader, timeout=10).text.splitlines()
            if line.startswith("zhanyou_view_lag{")
        ]
        if listed.get("total", 0) >= written and lags and all(float(lag) == 0 for lag in lags):
            return
        time.sleep(0.2)


class Writer:
    """Nominations into the read campaign at ``rate`` a second while a target is measured: the
    views move on under the reads, as on registration day."""

    def __init__(self, settings: Settings, campaign: uuid.UUID, rate: float) -> None:
        self.service = build_service(settings) if rate > 0 else None
        self.campaign = campaign
        self.rate = rate
        self.written = CONTESTANTS

    @contextmanager
    def running(self) -> Iterator[None]:
        service = self.service
        if service is None:
            yield
            return
        stop = threading.Event()

        def write() -> None:
            started, n = time.monotonic(), 0
            while not stop.is_set():
                nominate(service, self.campaign, person(Group.TRAINEE), self.written)
                self.written += 1
                n += 1
                stop.wait(max(0.0, started + n / self.rate - time.monotonic()))

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def close(self) -> None:
        if self.service is not None:
            self.service.close()


def _measure(
    label: str,
    round_number: int,
    name: str,
    target: tuple[str, dict[str, str]],
    writer: Writer,
    args: argparse.Namespace,
) -> tuple[Outcome, float, str]:
    url, headers = target
    with writer.running():
        outcome = asyncio.run(open_loop(url, headers, args.rate, args.seconds))
        capacity = asyncio.run(closed_loop(url, headers, args.capacity_seconds))
    writes = f" ({args.writes:.0f} nominations/s)" if args.writes else ""
    line = (
        f"{label} round {round_number} {name} at {args.rate:.0f}/s{writes}: p50 {outcome.p50_ms:.1f} ms, "
        f"p99 {outcome.p99_ms:.1f} ms, {outcome.errors} errors of {outcome.sent}; capacity {capacity:.0f}/s"
    )
    print(line, flush=True)
    return outcome, capacity, line


def bench_backend(label: str, env: dict[str, str], settings: Settings, args: argparse.Namespace) -> list[str]:
    token, campaign = seed(settings)
    yardstick = _free_port()
    zhanyou = str(Path(sys.executable).with_name("zhanyou"))
    bare_command = [sys.executable, "-m", "uvicorn", "--factory", "bench.bare:bare_endpoint_app"]
    bare_command += ["--port", str(yardstick), "--log-level", "warning", "--no-access-log"]
    bare: tuple[str, dict[str, str]] = (f"http://127.0.0.1:{yardstick}/items/{uuid.uuid4()}", {})
    # the same store served in turns: by another checkout's code (PYTHONPATH), by this one
    # with no answer kept (every read a miss, as while the views move), and by this one
    sources: dict[str, dict[str, str]] = {}
    if args.baseline:
        sources["baseline "] = {"PYTHONPATH": args.baseline}
    if args.uncached:
        sources["uncached "] = {"ZHANYOU_READ_CACHE_ENTRIES": "0"}
    sources[""] = {}
    names = ["bare endpoint", *(f"{prefix}{view}" for prefix in sources for view in ("roster", "quotas"))]
    found: dict[str, list[Outcome]] = {name: [] for name in names}
    capacity: dict[str, list[float]] = {name: [] for name in names}
    lines: list[str] = []
    writer = Writer(settings, campaign, args.writes)

    def record(round_number: int, name: str, target: tuple[str, dict[str, str]]) -> None:
        outcome, rate, line = _measure(label, round_number, name, target, writer, args)
        found[name].append(outcome)
        capacity[name].append(rate)
        lines.append(line)

    with serving(bare_command, env, bare[0]), contextlib.closing(writer):
        for round_number in range(1, args.rounds + 1):
            record(round_number, "bare endpoint", bare)
            for prefix, extra in sources.items():
                port = _free_port()
                served = {**env, **extra}
                command = [zhanyou, "serve", "--port", str(port), "--no-scheduler"]
                base = f"http://127.0.0.1:{port}/api/campaigns/{campaign}"
                reader = {"Authorization": f"Bearer {token}"}
                with serving(command, served, f"http://127.0.0.1:{port}/healthz"):
                    _caught_up(base, token, writer.written)
                    record(round_number, f"{prefix}roster", (f"{base}/contestants", reader))
                    record(round_number, f"{prefix}quotas", (f"{base}/quotas", reader))
    for name, outcomes in found.items():
        p50 = statistics.median(o.p50_ms for o in outcomes)
        p99 = statistics.median(o.p99_ms for o in outcomes)
        errors = sum(o.errors for o in outcomes)
        ratio = statistics.median(
            r / b for r, b in zip(capacity[name], capacity["bare endpoint"], strict=True)
        )
        lines.append(
            f"{label} {name} at {args.rate:.0f}/s: median p50 {p50:.1f} ms, median p99 {p99:.1f} ms "
            f"(p99s {', '.join(f'{o.p99_ms:.1f}' for o in outcomes)}), {errors} errors; capacity median "
            f"{statistics.median(capacity[name]):.0f}/s, {ratio:.2f}x the bare endpoint's"
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
    parser.add_argument("--capacity-seconds", type=float, default=3.0, help="length of each closed-loop run")
    parser.add_argument(
        "--baseline", help="another checkout (e.g. /work/main) whose code serves the same store in turns"
    )
    parser.add_argument("--writes", type=float, default=0.0, help="nominations a second during each run")
    parser.add_argument("--uncached", action="store_true", help="also serve with no answer kept")
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
        with scratch_schema(args.pg, prefix="bench_reads") as schema:
            env = {**os.environ, "ZHANYOU_DATABASE_URL": args.pg, "ZHANYOU_DATABASE_SCHEMA": schema}
            settings = Settings.load(database_url=args.pg, database_schema=schema)
            lines += bench_backend("postgres", env, settings, args)
    keep("reads", lines)


if __name__ == "__main__":
    main()
