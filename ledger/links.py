"""The chain hash of one stored event, defined once for the recorders, the verifier and bundles.

``link = SHA-256(previous link || notification id || originator id || originator version ||
topic || state)``, where the notification id and version are 8-byte big-endian signed
integers, the originator id is its 16 UUID bytes (or, for a non-UUID id, its UTF-8 text),
and the originator id (when text), the topic and the state are each preceded by their
length as an 8-byte big-endian integer, so no two different events encode alike. The state
is the stored bytes, i.e. the ciphertext when encryption at rest is on. The first link's
previous link is 32 zero bytes. Only the standard library is used, so an auditor can
recompute a chain with nothing but this file.
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


def link(previous: bytes, row: StoredRow) -> bytes:
    """The chain hash of ``row`` following ``previous``."""
    topic = row.topic.encode()
    digest = hashlib.sha256(previous)
    digest.update(_INT.pack(row.notification_id))
    digest.update(_originator_bytes(row.originator_id))
    digest.update(_INT.pack(row.originator_version))
    digest.update(_INT.pack(len(topic)))
    digest.update(topic)
    digest.update(_INT.pack(len(row.state)))
    digest.update(row.state)
    return digest.digest()


def chain(previous: bytes, rows: list[StoredRow]) -> list[bytes]:
    """The links of consecutive rows following ``previous``."""
    links: list[bytes] = []
    for row in rows:
        previous = link(previous, row)
        links.append(previous)
    return links
