"""Evidence bundles: the events concerning a contestant or a campaign, provable offline.

A bundle holds a signed checkpoint, the public key, the link just before the first event
concerned, and then every position up to the checkpoint: the events concerned in full
(stored bytes, base64, with their links) and every other event as its digest only, so no
one else's data travels with it. ``check`` recomputes the chain from the starting link to
the checkpoint's head and verifies the signature: it needs nothing but this file (and
``ledger.links``, ``ledger.checkpoints`` and ``ledger.signers``), no database.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.checkpoints import CheckpointUnreadable, SignedCheckpoint
from ledger.links import GENESIS, StoredRow, digest, link_digest
from ledger.signers import shown_signer
from ledger.store import StoredLink

FORMAT = "zhanyou-evidence/1"


class BundleUnreadable(ValueError):
    """Not an evidence bundle, or one whose fields are malformed."""


@dataclass(frozen=True)
class BundleCheck:
    ok: bool
    events: int
    positions: int
    detail: str


def build(
    subject: dict[str, str],
    entries: Iterable[tuple[StoredRow, StoredLink]],
    concerned: set[UUID],
    checkpoint: SignedCheckpoint,
    exported_at: str,
) -> Iterator[str]:
    """The bundle's JSON text in pieces (a campaign's can be large); ``entries`` in position order."""
    yield "{" + json.dumps("format") + ": " + json.dumps(FORMAT) + ",\n"
    yield f'"subject": {json.dumps(subject, ensure_ascii=False)},\n'
    yield f'"exported_at": {json.dumps(exported_at)},\n'
    yield f'"public_key": {json.dumps(checkpoint.public_key)},\n'
    yield f'"checkpoint": {json.dumps(checkpoint.as_dict(), ensure_ascii=False)},\n'
    started = False
    previous = GENESIS
    end = checkpoint.checkpoint.count
    for row, stored in entries:
        if stored.position > end:
            break
        if not started:
            if row.originator_id not in concerned:
                previous = stored.link
                continue
            yield _start(stored.position - 1, previous.hex())
            started = True
        else:
            yield ",\n"
        yield json.dumps(_entry(row, stored, row.originator_id in concerned))
    if not started:
        yield _start(end, checkpoint.checkpoint.head)
    yield "\n]}\n"


def _start(position: int, previous: str) -> str:
    return f'"start": {{"position": {position}, "link": "{previous}"}},\n"entries": [\n'


def _entry(row: StoredRow, stored: StoredLink, full: bool) -> dict[str, Any]:
    if not full:
        return {
            "position": stored.position,
            "notification_id": row.notification_id,
            "digest": digest(row).hex(),
        }
    return {
        "position": stored.position,
        "notification_id": row.notification_id,
        "originator_id": str(row.originator_id),
        "originator_version": row.originator_version,
        "topic": row.topic,
        "state": base64.b64encode(row.state).decode(),
        "link": stored.link.hex(),
    }


def check(text: str) -> BundleCheck:
    """Verify a bundle offline: every link from the start to the signed head, and the signature."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise BundleUnreadable(f"not a {FORMAT} bundle")
        checkpoint = SignedCheckpoint.parse(data["checkpoint"])
        if checkpoint.public_key != data["public_key"]:
            return BundleCheck(False, 0, 0, "the checkpoint is signed with another key than the bundle's")
        if not checkpoint.signed_by(data["public_key"]):
            return BundleCheck(False, 0, 0, "the checkpoint's signature does not verify: it was altered")
        position, previous = int(data["start"]["position"]), bytes.fromhex(data["start"]["link"])
        events = 0
        for entry in data["entries"]:
            position += 1
            if int(entry["position"]) != position:
                return BundleCheck(False, events, position, f"position {position} is missing from the bundle")
            nid = int(entry["notification_id"])
            if "digest" in entry:
                previous = link_digest(previous, nid, bytes.fromhex(entry["digest"]))
                continue
            row = StoredRow(
                nid,
                UUID(entry["originator_id"]),
                int(entry["originator_version"]),
                str(entry["topic"]),
                base64.b64decode(entry["state"], validate=True),
            )
            previous = link_digest(previous, nid, digest(row))
            if previous.hex() != entry["link"]:
                return BundleCheck(
                    False,
                    events,
                    position,
                    f"the event at position {position} (notification {nid}) does not match its link: "
                    "it was altered",
                )
            events += 1
    except (
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
        binascii.Error,
        CheckpointUnreadable,
    ) as error:
        if isinstance(error, BundleUnreadable):
            raise
        raise BundleUnreadable(f"not a readable evidence bundle: {type(error).__name__}: {error}") from None
    signed = checkpoint.checkpoint
    if position != signed.count:
        return BundleCheck(
            False, events, position, f"the bundle ends at position {position}, not {signed.count}"
        )
    if previous.hex() != signed.head:
        return BundleCheck(
            False, events, position, "the chain rebuilt from the bundle does not reach the signed head"
        )
    return BundleCheck(
        True,
        events,
        position,
        f"{events} events proven part of the log whose first {signed.count} events were signed "
        f"{signed.instant} by {shown_signer(signed.signer)} (head {signed.head})",
    )
