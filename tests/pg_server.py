"""A PostgreSQL server for the test session: the one named by ZHANYOU_TEST_PG_DSN, or a throwaway one.

The throwaway server lives in a temporary directory, listens on a free port of
127.0.0.1 and trades durability for speed. initdb and postgres refuse to run as root,
so as root they run as the ``postgres`` user (or ``nobody``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

DSN_VARIABLE = "ZHANYOU_TEST_PG_DSN"
_SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be given or started; the message says why."""


@contextlib.contextmanager
def session_dsn() -> Iterator[str]:
    """The DSN of a reachable server, for as long as the context lasts."""
    given = os.environ.get(DSN_VARIABLE)
    if given:
        check_reachable(given)
        yield given
        return
    with throwaway_server() as dsn:
        yield dsn


def check_reachable(dsn: str) -> None:
    try:
        with psycopg.connect(dsn, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        raise PostgresUnavailable(f"{DSN_VARIABLE}={dsn} is not reachable: {error}") from None


def find_bindir() -> Path:
    """The directory of initdb and pg_ctl: pg_config's, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            answer = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            )
            candidates.append(Path(answer.stdout.strip()))
    candidates += sorted(
        (Path(found) for found in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda path: _version_key(path.parent.name),
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found via pg_config or "
        f"/usr/lib/postgresql/*/bin; install PostgreSQL or set {DSN_VARIABLE}"
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _unprivileged_user() -> pwd.struct_passwd | None:
    """None when not root; otherwise the user initdb and postgres run as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailable("running as root, and neither a 'postgres' nor a 'nobody' user exists")


class ThrowawayServer:
    """A private server in a temporary directory that a drill may stop and start again."""

    def __init__(self, *, durable: bool = False) -> None:
        # A drill that crashes the server needs commits that survive it (fsync may stay off:
        # a crashed server process leaves the WAL in the kernel's cache).
        self.options = (
            _SERVER_OPTIONS.replace("synchronous_commit=off", "synchronous_commit=on")
            if durable
            else _SERVER_OPTIONS
        )
        self.bindir = find_bindir()
        user = _unprivileged_user()
        # Under /tmp and world-traversable, so that the unprivileged user can reach it.
        self.base = Path(tempfile.mkdtemp(prefix="zhanyou-pg-", dir="/tmp"))
        self.base.chmod(0o755)
        self._run_as: dict[str, Any] = {}
        if user is not None:
            os.chown(self.base, user.pw_uid, user.pw_gid)
            self._run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.data = self.base / "data"
        self.port = 0
        self.dsn = ""

    def _run(self, *args: str | Path) -> None:
        try:
            subprocess.run(
                [str(arg) for arg in args],
                cwd=self.base,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
                **self._run_as,
            )
        except subprocess.CalledProcessError as error:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({error.returncode}): {error.stderr.strip()}\n{tail}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PostgresUnavailable(f"{Path(args[0]).name} could not run: {error}") from None

    def init(self) -> str:
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return self.dsn

    def start(self) -> None:
        """Start (again) on the same port and data; returns once it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base} "
        self._run(
            self.bindir / "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            self.data,
            "-l",
            self.base / "server.log",
            "-o",
            options + self.options,
        )
        check_reachable(self.dsn)

    def stop(self, mode: str = "immediate") -> None:
        """Stop now: ``immediate`` is a crash as far as clients can tell."""
        self._run(self.bindir / "pg_ctl", "stop", "-m", mode, "-w", "-D", self.data)

    def remove(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def controllable_server(*, durable: bool = False) -> Iterator[ThrowawayServer]:
    """A throwaway server, started; stopped and removed afterwards."""
    server = ThrowawayServer(durable=durable)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a private server, yield its DSN, then stop it and remove its files."""
    with controllable_server() as server:
        yield server.dsn
