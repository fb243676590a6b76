"""What the bench scripts share: a throwaway PostgreSQL schema, and their figures kept.

``scratch_schema`` makes an empty schema of a name of its own and drops it afterwards, also
when the run fails; ``keep`` appends a run's printed lines to ``bench/results/NAME.txt``,
each after the instant they were kept (UTC, to the second), so runs can be compared later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

RESULTS = Path(__file__).parent / "results"


@contextmanager
def scratch_schema(dsn: str, prefix: str = "bench") -> Iterator[str]:
    """A new, empty schema ``PREFIX_xxxxxxxx`` in the database at ``dsn``; dropped with all it holds."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def keep(name: str, lines: Iterable[str]) -> None:
    """Appends ``lines`` to bench/results/NAME.txt, each stamped with this instant."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (RESULTS / f"{name}.txt").open("a", encoding="utf-8") as out:
        out.writelines(f"{stamp} {line}\n" for line in lines)
