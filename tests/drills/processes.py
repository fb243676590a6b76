"""Real `zhanyou` processes for the drills: started with their own environment, stopped by their pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.pg_server import free_port

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))
TOKEN = "drill-bootstrap-token-0123456789"  # noqa: S105 - a throwaway test token
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


#: A PostgreSQL deployment must be given its keys (a new SQLite store makes its own).
PG_KEYS = {
    "ZHANYOU_CIPHER_KEY": "dGVzdC1jaXBoZXIta2V5LW9mLTMyLWJ5dGVzLTAwMDA=",
    "ZHANYOU_ID_SECRET": "test-id-secret-of-the-drills-0123456789",
    "ZHANYOU_SIGNING_KEY": "dGVzdC1zaWduaW5nLWtleS1vZi0zMi1ieXRlcy0wMDA=",
}


def pg_key_fields() -> dict[str, str]:
    """The same keys as settings fields, for a test's own service on the processes' store."""
    return {name.removeprefix("ZHANYOU_").lower(): value for name, value in PG_KEYS.items()}


def store_env(dsn: str, schema: str | None = None, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    keys = PG_KEYS if dsn.startswith("postgres") else {}
    env |= {"ZHANYOU_DATABASE_URL": dsn, "ZHANYOU_BOOTSTRAP_TOKEN": TOKEN, **keys, **more}
    if schema:
        env["ZHANYOU_DATABASE_SCHEMA"] = schema
    return env


class Process:
    """One `zhanyou` command; its output goes to ``<name>.log``."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        with self.log.open("w") as out:
            self.popen = subprocess.Popen([ZHANYOU, *args], stdout=out, stderr=subprocess.STDOUT, env=env)

    @property
    def me(self) -> str:
        return f"{os.uname().nodename}:{self.popen.pid}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


class Server(Process):
    """`zhanyou serve` on a free port, ready once /readyz says so."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, *flags: str) -> None:
        self.port = free_port()
        super().__init__(name, ["serve", "--host", "127.0.0.1", "--port", str(self.port), *flags], env, logs)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # the process is starting: there is no position to wait on yet
        raise AssertionError(f"{self.name} did not become ready:\n{self.text()}")


def wait_until(check: object, timeout: float, step: float = 0.1) -> bool:
    """Poll ``check()`` (for what only another process's output can tell) until true or timeout."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return bool(check())
