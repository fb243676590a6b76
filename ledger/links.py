"""The chain hash of one stored event, defined once for the recorders, the verifier and bundles.

``link = SHA-256(previous link || notification id || digest)`` with
``digest = SHA-256(originator id || originator version || topic || state)``: the hash runs
over the previous link, the notification id and every stored column, in two steps so that
an evidence bundle can carry other people's events as their digest only. Integers are
8-byte big-endian signed; the originator id is its 16 UUID bytes (or, for a non-UUID id,
its UTF-8 text); text and bytes are each preceded by their length (8 bytes), so no two
different events encode alike. The state is the stored bytes, i.e. the ciphertext when
encryption at rest is on. The first link's previous link is 32 zero bytes. Only the
standard library is used, so an auditor can recompute a chain with nothing but this file.
On PostgreSQL the insert statement computes the same bytes in SQL
(``ledger.appending.postgres_chained_insert``); the verifier always recomputes with this file.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)
_INT = struct.Struct(">q")


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row of the events table as stored, with its notification id."""

    notification_id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


def _originator_bytes(originator_id: UUID | str) -> bytes:
    if isinstance(originator_id, UUID):
        return originator_id.bytes
    text = originator_id.encode()
    return _INT.pack(len(text)) + text


def digest(row: StoredRow) -> bytes:
    """The digest of an event's stored columns (without its place in the log)."""
    topic = row.topic.encode()
    hashed = hashlib.sha256(_originator_bytes(row.originator_id))
    hashed.update(_INT.pack(row.originator_version))
    hashed.update(_INT.pack(len(topic)))
    hashed.update(topic)
    hashed.update(_INT.pack(len(row.state)))
    hashed.update(row.state)
    return hashed.digest()


def link_digest(previous: bytes, notification_id: int, event_digest: bytes) -> bytes:
    """The link of an event known by its digest."""
    return hashlib.sha256(previous + _INT.pack(notification_id) + event_digest).digest()


def link(previous: bytes, row: StoredRow) -> bytes:
    """The chain hash of ``row`` following ``previous``."""
    return link_digest(previous, row.notification_id, digest(row))
