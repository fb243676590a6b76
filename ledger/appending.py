"""Appending links for newly inserted events, inside the insert's own transaction.

The recorders call this while their transaction holds the store's write order (the events
table's EXCLUSIVE lock on PostgreSQL, the database write lock on SQLite), so the last link
read here is the last one committed and no other insert can slip in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger.links import GENESIS, StoredRow, link


class ChainCursor(Protocol):
    """What appending needs from a backend, within the open transaction."""

    def last_link(self) -> tuple[int, bytes] | None:
        """The highest (position, link), or None when nothing is chained."""

    def has_events_before(self, notification_id: int) -> bool:
        """Whether the events table holds an event older than ``notification_id``."""

    def insert_links(self, links: Sequence[tuple[int, int, bytes]]) -> None:
        """Insert (notification id, position, link) rows."""


def append_links(cursor: ChainCursor, rows: Sequence[StoredRow]) -> None:
    """Chain ``rows`` (in notification id order) after the last link.

    A store whose events predate the chain and that has not been sealed yet gets no links:
    ``zhanyou seal`` chains it from its first event, these included.
    """
    if not rows:
        return
    last = cursor.last_link()
    if last is None:
        if cursor.has_events_before(rows[0].notification_id):
            return  # unsealed: sealing will chain these events with the older ones
        last = (0, GENESIS)
    position, previous = last
    links: list[tuple[int, int, bytes]] = []
    for row in rows:
        position += 1
        previous = link(previous, row)
        links.append((row.notification_id, position, previous))
    cursor.insert_links(links)
