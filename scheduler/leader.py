"""Exactly one active instance of each background role (scheduler, projections) per event store.

PostgreSQL: a session-level advisory lock per role held on a dedicated autocommit
connection; when the holder dies its connection closes and the lock is free again. SQLite:
an exclusive non-blocking ``flock`` on ``<dbfile>.<role>.lock``, released by the kernel
when the holding process dies. A standby retries every second and starts the role's
runner once it holds the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import psycopg

from application.settings import Settings
from application.setup_lock import lock_key

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
PROJECTIONS = "projections"


def identity() -> str:
    """Who this instance is, as reported to the others: hostname:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def holder(self) -> str | None: ...

    def release(self) -> None: ...


class Runnable(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


def advisory_key(schema: str | None, role: str = SCHEDULER) -> int:
    """A constant lock key per store and role: one schema's scheduler does not block another's."""
    return lock_key(f"zhanyou.{role}:{schema or 'public'}")


class PostgresLock:
    """``pg_try_advisory_lock(key)`` on a connection of its own, kept open while held."""

    def __init__(self, conninfo: str, schema: str | None, me: str, role: str = SCHEDULER) -> None:
        self.conninfo = conninfo
        self.role = role
        self.key = advisory_key(schema, role)
        self.me = me
        self._prefix = f"zhanyou-{role} "
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=5,
                application_name=f"{self._prefix}{self.me}"[:63],
                # Let the server notice a vanished holder (a dead host, a cut cable) quickly.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
        return self._connection

    def try_acquire(self) -> bool:
        try:
            row = self._connect().execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as error:
            log.warning("%s lock: PostgreSQL is unreachable: %s", self.role, error)
            self._drop()
            return False
        return bool(row and row[0])

    def still_held(self) -> bool:
        connection = self._connection
        if connection is None or connection.closed:
            return False
        try:
            connection.execute("SELECT 1")
        except psycopg.Error:
            self._drop()
            return False
        return True

    def holder(self) -> str | None:
        high, low = self.key >> 32, self.key & 0xFFFFFFFF
        try:
            row = (
                self._connect()
                .execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid::bigint = %s AND l.objid::bigint = %s "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    (high, low),
                )
                .fetchone()
            )
        except psycopg.Error:
            self._drop()
            return None
        if not row:
            return None
        return str(row[0]).removeprefix(self._prefix)

    def release(self) -> None:
        if self._connection is not None and not self._connection.closed:
            with contextlib.suppress(psycopg.Error):
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
        self._connection = None


class FileLock:
    """An exclusive ``flock`` on a file beside the SQLite database; it names its holder."""

    def __init__(self, path: Path, me: str) -> None:
        self.path = path
        self.me = me
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, self.me.encode(), 0)
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str | None:
        """The name in the file, unless nobody holds the lock (a killed holder leaves its name)."""
        if self._fd is not None:
            return self.me
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 256, 0).decode(errors="replace").strip() or None
        finally:
            os.close(fd)
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def lock_for(settings: Settings, me: str | None = None, role: str = SCHEDULER) -> LeaderLock:
    me = me or identity()
    if settings.is_postgres:
        return PostgresLock(settings.database_url, settings.database_schema, me, role)
    path = settings.sqlite_path
    return FileLock(path.with_name(f"{path.name}.{role}.lock"), me)


class Elector:
    """Holds the lock and runs a runner while holding it; stands by otherwise."""

    def __init__(
        self,
        lock: LeaderLock,
        make_runner: Callable[[], Runnable],
        *,
        me: str | None = None,
        retry_seconds: float = 1.0,
        say: Callable[[str], None] = log.info,
        role: str = SCHEDULER,
    ) -> None:
        self.role = role
        self.lock = lock
        self.make_runner = make_runner
        self.me = me or identity()
        self.retry_seconds = retry_seconds
        self.say = say
        self._runner: Runnable | None = None
        self._reported_holder: str | None = None

    @property
    def active(self) -> bool:
        return self._runner is not None

    @property
    def runner(self) -> Runnable | None:
        return self._runner

    def stop(self) -> None:
        """Stop the runner and give the lock up (``run`` does this when it ends)."""
        self._stop_runner()
        self.lock.release()

    def status(self) -> dict[str, object]:
        holder = self.me if self.active else self.lock.holder()
        return {"me": self.me, "active": self.active, "holder": holder}

    def step(self) -> None:
        """One round: take the lock if free and start; or notice it was lost and stop."""
        if self._runner is not None:
            if not self.lock.still_held():
                self.say(f"{self.role} {self.me}: lost the lock, standing by")
                self._stop_runner()
            return
        if self.lock.try_acquire():
            self.say(f"{self.role} {self.me}: active")
            runner = self.make_runner()
            try:
                runner.start()
            except BaseException:
                self.lock.release()
                raise
            self._runner = runner
            self._reported_holder = None
            return
        holder = self.lock.holder()
        if holder != self._reported_holder:
            self.say(f"{self.role} {self.me}: standby; active instance is {holder or 'unknown'}")
            self._reported_holder = holder

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception as error:  # e.g. the store went down while taking over: try again
                    self.say(f"{self.role} {self.me}: could not start ({type(error).__name__}: {error})")
                stop.wait(self.retry_seconds)
        finally:
            self.stop()

    def _stop_runner(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()
