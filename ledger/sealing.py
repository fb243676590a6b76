"""Sealing: chaining a store whose events were stored before the chain existed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ledger.links import GENESIS, StoredRow, link

BATCH = 5000


def seal_rows(
    rows: Iterable[StoredRow], write: Callable[[Sequence[tuple[int, int, bytes]]], None]
) -> tuple[int, bytes]:
    """Chain ``rows`` from the genesis link, writing links in batches; returns (count, head)."""
    previous = GENESIS
    position = 0
    batch: list[tuple[int, int, bytes]] = []
    for row in rows:
        position += 1
        previous = link(previous, row)
        batch.append((row.notification_id, position, previous))
        if len(batch) >= BATCH:
            write(batch)
            batch = []
    if batch:
        write(batch)
    return position, previous
