"""A 200 MiB chunked body without a token against a real server: the answer, its time, the server's memory.

    .venv/bin/python -m bench.streamed_body [--mib 200]

Starts ``zhanyou serve`` on an empty SQLite store on a free port, streams the body
(``Transfer-Encoding: chunked``, no ``Content-Length``) to ``POST /api/campaigns`` and
prints the status, the seconds until the answer and the server's resident memory when idle
and at its peak (``VmHWM``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=200)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "ZHANYOU_DATABASE_URL": f"sqlite:///{scratch}/events.db",
            "ZHANYOU_BOOTSTRAP_TOKEN": "bench-bootstrap-token-0123456789",
        }
        command = [
            str(Path(sys.executable).with_name("zhanyou")),
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
        ]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            if server.poll() is not None:
                raise SystemExit("the server did not start")
            idle = _status_mb(server.pid, "VmRSS")

            def chunks() -> Iterator[bytes]:
                for _ in range(args.mib):
                    yield b" " * (1024 * 1024)

            started = time.perf_counter()
            try:
                answer = httpx.post(
                    f"{base}/api/campaigns",
                    content=chunks(),
                    headers={"content-type": "application/json"},
                    timeout=120,
                )
                outcome = f"{answer.status_code} {answer.json().get('rule')}"
            except httpx.HTTPError as error:
                outcome = f"connection closed ({type(error).__name__})"
            elapsed = time.perf_counter() - started
            peak = _status_mb(server.pid, "VmHWM")
            print(
                f"chunked {args.mib} MiB, no token: {outcome} in {elapsed:.2f} s; "
                f"server RSS idle {idle:.0f} MB, peak {peak:.0f} MB"
            )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
