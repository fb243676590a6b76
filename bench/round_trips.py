"""Round trips to PostgreSQL per command, measured through a proxy that adds network latency.

    .venv/bin/python -m bench.round_trips --pg postgresql://postgres@127.0.0.1:5432/postgres \
        [--count 20] [--latency-ms 20]

Every answer of the server reaches the client ``--latency-ms`` late, so each time the
client waits for the server costs that much once: a command's extra time over the same
command without the delay, divided by the delay, is its number of round trips. The count
takes in what the service's code does not see (a pool's pre-ping, the COMMIT), while
statements sent together in one pipeline cost one. Printed per command, beside a bare save
of 4 new aggregates and a bare get-and-update on the same proxy.
"""

from __future__ import annotations

import argparse
import queue
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from application import decisions
from application.bootstrap import build_service
from application.settings import Settings
from bench import bare
from bench.figures import scratch_schema
from bench.registration import ADMIN, REVIEW_DAY, launch, nominate, person
from domain.decision import DecisionContext
from domain.values import Group


class SlowProxy:
    """Forwards TCP to the server; the server's bytes are delivered ``delay`` seconds late."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.delay = 0.0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            late: queue.Queue[tuple[float, bytes]] = queue.Queue()
            threading.Thread(target=self._forward, args=(client, server), daemon=True).start()
            threading.Thread(target=self._stamp, args=(server, late), daemon=True).start()
            threading.Thread(target=self._deliver, args=(late, client), daemon=True).start()

    @staticmethod
    def _forward(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()

    def _stamp(self, source: socket.socket, late: queue.Queue[tuple[float, bytes]]) -> None:
        try:
            while data := source.recv(65536):
                late.put((time.monotonic() + self.delay, data))
        except OSError:
            pass
        late.put((0.0, b""))

    @staticmethod
    def _deliver(late: queue.Queue[tuple[float, bytes]], target: socket.socket) -> None:
        try:
            while True:
                due, data = late.get()
                if not data:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                target.sendall(data)
        except OSError:
            pass
        finally:
            target.close()

    def close(self) -> None:
        self._listener.close()


def round_trips(proxy: SlowProxy, latency: float, count: int, run: Callable[[], Any]) -> float:
    """Median over 3 rounds of (time with the latency - time without) / latency, per ``run()``.

    Each round times ``count`` calls without the delay, then ``count`` with it.
    """
    found = []
    for _ in range(3):
        timed = {}
        for delay in (0.0, latency):
            proxy.delay = delay
            started = time.perf_counter()
            for _ in range(count):
                run()
            timed[delay] = (time.perf_counter() - started) / count
        found.append((timed[latency] - timed[0.0]) / latency)
    proxy.delay = 0.0
    return statistics.median(found)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", required=True, help="PostgreSQL DSN; a fresh schema is created and dropped")
    parser.add_argument("--count", type=int, default=10, help="commands timed per round (3 rounds)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    url = urlsplit(args.pg)
    proxy = SlowProxy(url.hostname or "127.0.0.1", url.port or 5432)
    password = f":{url.password}" if url.password else ""
    netloc = f"{url.username or 'postgres'}{password}@127.0.0.1:{proxy.port}"
    dsn = urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))
    latency = args.latency_ms / 1000
    with scratch_schema(args.pg, prefix="trips") as schema, closing(proxy):
        settings = Settings.load(database_url=dsn, database_schema=schema, pool_size=2)
        service = build_service(settings)
        yardstick = bare.bare_application(settings.eventsourcing_env())
        try:
            campaign = launch(service)
            # Every city's quota cached first, as after the first minutes of a registration day.
            for n in range(20):
                nominate(service, campaign, person(Group.TRAINEE), n)
            # ``count`` per round, 2 x 3 rounds: nominate as many as the verifies will take.
            ids: list[uuid.UUID] = []
            serial = iter(range(10**6))

            def nominate_one() -> None:
                ids.append(nominate(service, campaign, person(Group.TRAINEE), next(serial)))

            def verify_one() -> None:
                decide = service.decide
                decide(ids.pop(), decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEW_DAY))

            def save_four() -> None:
                yardstick.save(*(bare.Item(label=str(n)) for n in range(4)))

            item = bare.Item(label="touched")
            yardstick.save(item)

            def get_and_update() -> None:
                found: bare.Item = yardstick.repository.get(item.id)
                found.touch(note="again")
                yardstick.save(found)

            figures = {
                "nomination": round_trips(proxy, latency, args.count, nominate_one),
                "bare save-4": round_trips(proxy, latency, args.count, save_four),
                "verify": round_trips(proxy, latency, args.count, verify_one),
                "bare get-and-update": round_trips(proxy, latency, args.count, get_and_update),
            }
            print(", ".join(f"{name} {value:.1f}" for name, value in figures.items()), "round trips")
        finally:
            yardstick.close()
            service.close()


if __name__ == "__main__":
    main()
