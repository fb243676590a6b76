"""Appending links for newly inserted events, inside the insert's own transaction.

The recorders append while their transaction holds the store's write order (the events
table's EXCLUSIVE lock on PostgreSQL, the database write lock on SQLite), so the last link
read is the last one committed and no other insert can slip in between.

On SQLite the links are computed here (``append_links``), with ``ledger.links``. On
PostgreSQL the insert statement itself computes them (``postgres_chained_insert``): the
events, their links and the read of the previous link are one statement, so the chain
adds no round trip to a command. Its SQL spells out the encoding of ``ledger.links`` with
the server's ``sha256`` and ``int8send`` (8-byte big-endian); the verifier recomputes every
link with ``ledger.links``, so the two must agree byte for byte (tests/ledger compare them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from psycopg.sql import SQL, Composed, Identifier, Literal

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


def _utf8_with_length(column: str) -> str:
    return f"int8send(octet_length(convert_to({column}, 'UTF8'))::bigint) || convert_to({column}, 'UTF8')"


def postgres_digest_sql(originator_id_type: str) -> str:
    """``ledger.links.digest`` over the columns of a row of the events table, in SQL."""
    originator = (
        "uuid_send(originator_id)" if originator_id_type == "uuid" else _utf8_with_length("originator_id")
    )
    return (
        f"sha256({originator} || int8send(originator_version::bigint) || {_utf8_with_length('topic')}"
        " || int8send(octet_length(state)::bigint) || state)"
    )


def postgres_chained_insert(
    *, schema: str, events: str, event_type: str, chain: str | None, originator_id_type: str
) -> Composed:
    """The events insert, refused as a whole (no row) if the campaign moved, chained when ``chain``.

    Parameters: ``events`` (the library's composite array), ``campaign`` and ``version``
    (both NULL when nothing is to be checked). Answers (notification id, originator id,
    version) of the inserted rows; none when the campaign ``campaign`` has an event after
    ``version``, which the caller's lock makes a stable answer.

    Every part of the statement reads the same snapshot, taken after the caller's lock:
    the previous link is the last one committed, and "the store has events but no link"
    (unsealed: no links until ``zhanyou seal``) is judged on the events stored before these.
    """
    names = {
        "s": Identifier(schema),
        "events": Identifier(events),
        "event_type": Identifier(event_type),
    }
    inserted = SQL(
        "inserted AS ("
        " INSERT INTO {s}.{events} AS t (originator_id, originator_version, topic, state)"
        " SELECT originator_id, originator_version, topic, state"
        " FROM unnest(%(events)s::{s}.{event_type}[])"
        " WHERE NOT EXISTS (SELECT FROM {s}.{events}"
        "  WHERE originator_id = %(campaign)s AND originator_version > %(version)s)"
        " RETURNING notification_id, originator_id, originator_version, topic, state)"
    ).format(**names)
    answer = SQL("SELECT notification_id, originator_id, originator_version FROM inserted")
    if chain is None:
        return SQL("WITH {inserted} {answer}").format(inserted=inserted, answer=answer)
    return SQL(
        "WITH RECURSIVE {inserted},"
        " head AS (SELECT position, link FROM {s}.{chain} ORDER BY position DESC LIMIT 1),"
        " start AS ("
        "  SELECT position, link FROM head"
        "  UNION ALL"
        "  SELECT 0::bigint, {genesis}"
        "  WHERE NOT EXISTS (SELECT FROM head) AND NOT EXISTS (SELECT FROM {s}.{events})),"
        " ordered AS ("
        "  SELECT row_number() OVER (ORDER BY notification_id) AS n, notification_id,"
        "  {digest} AS digest FROM inserted),"
        " links (n, notification_id, position, link) AS ("
        "  SELECT 0::bigint, 0::bigint, position, link FROM start"
        "  UNION ALL"
        "  SELECT o.n, o.notification_id, l.position + 1,"
        "  sha256(l.link || int8send(o.notification_id) || o.digest)"
        "  FROM links AS l JOIN ordered AS o ON o.n = l.n + 1),"
        " chained AS ("
        "  INSERT INTO {s}.{chain} (notification_id, position, link)"
        "  SELECT notification_id, position, link FROM links WHERE n > 0)"
        " {answer}"
    ).format(
        **names,
        inserted=inserted,
        chain=Identifier(chain),
        genesis=Literal(GENESIS),
        digest=SQL(postgres_digest_sql(originator_id_type)),
        answer=answer,
    )
