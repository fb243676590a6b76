"""One process at a time creates or changes the store's tables.

The API, the scheduler and the projection worker all start together and all create what is
missing; on PostgreSQL, concurrent ``CREATE ... IF NOT EXISTS`` and ``CREATE OR REPLACE
FUNCTION`` fail ("tuple concurrently updated"), so they take turns on an advisory lock held
on a connection of its own. On SQLite the lock is an ``flock`` on a file beside the store.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from application.settings import Settings


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock key for ``name``: positive, fits a bigint."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 2


@contextmanager
def setup_lock(settings: Settings) -> Iterator[None]:
    if settings.is_postgres:
        key = lock_key(f"zhanyou setup:{settings.database_schema or 'public'}")
        with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (key,))
            yield  # closing the connection releases the lock
        return
    path = settings.sqlite_path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".setup.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
