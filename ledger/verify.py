"""Recomputing the chain from the tables as stored, and saying where and how it breaks.

The walk goes through the events and the links in notification id order, recomputing each
link from the previous one. At the first disagreement it looks one row further (and, for
a changed event, on to the next disagreement) to tell what was done:

- **changed**: an event's bytes differ from what was chained (the next link still holds);
- **reordered**: two events swapped places (each matches the other's link);
- **missing**: an event is gone (its link remains, or positions jump);
- **inserted**: an event without a link, or out of the chain's sequence;
- **hash altered**: a stored link was changed or deleted while its event is intact;
- **rewritten**: the chain holds together but differs from a signed checkpoint (recomputed
  after a change, i.e. re-sealed);
- **truncated**: the chain is shorter than a signed checkpoint says it was;
- **forged checkpoint**: a stored checkpoint whose signature does not verify;
- **not sealed**: the store has events and no chain yet (``zhanyou seal``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ledger.checkpoints import CheckpointUnreadable, SignedCheckpoint
from ledger.links import GENESIS, StoredRow, link
from ledger.store import LedgerStore, SealRecord, StoredLink

Progress = Callable[[int, int], None]


class BreakKind(StrEnum):
    CHANGED = "changed"
    REORDERED = "reordered"
    MISSING = "missing"
    INSERTED = "inserted"
    HASH_ALTERED = "hash altered"
    REWRITTEN = "rewritten"
    TRUNCATED = "truncated"
    FORGED_CHECKPOINT = "forged checkpoint"
    NOT_SEALED = "not sealed"


@dataclass(frozen=True)
class Break:
    kind: BreakKind
    position: int
    notification_id: int | None
    detail: str


@dataclass(frozen=True)
class Verification:
    """:ivar count: events whose links verified (up to the break, if any). :ivar head: the last
    verified link. :ivar checkpoints: signed checkpoints the chain was checked against."""

    count: int
    head: bytes
    notification_id: int
    broken: Break | None
    checkpoints: int = 0
    seals: Sequence[SealRecord] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass(frozen=True, slots=True)
class Entry:
    notification_id: int
    event: StoredRow | None
    link: StoredLink | None


def merged(events: Iterable[StoredRow], links: Iterable[StoredLink]) -> Iterator[Entry]:
    """Events and links side by side, by notification id (either may be absent)."""
    event_iter, link_iter = iter(events), iter(links)
    event, stored = next(event_iter, None), next(link_iter, None)
    while event is not None or stored is not None:
        if event is not None and (stored is None or event.notification_id < stored.notification_id):
            yield Entry(event.notification_id, event, None)
            event = next(event_iter, None)
        elif stored is not None and (event is None or stored.notification_id < event.notification_id):
            yield Entry(stored.notification_id, None, stored)
            stored = next(link_iter, None)
        elif event is not None and stored is not None:
            yield Entry(event.notification_id, event, stored)
            event, stored = next(event_iter, None), next(link_iter, None)


class _Peekable:
    def __init__(self, entries: Iterable[Entry]) -> None:
        self._iter = iter(entries)
        self._next: Entry | None = next(self._iter, None)

    def peek(self) -> Entry | None:
        return self._next

    def pop(self) -> Entry | None:
        current = self._next
        self._next = next(self._iter, None)
        return current


def _at(row: StoredRow, notification_id: int) -> StoredRow:
    return dataclasses.replace(row, notification_id=notification_id)


def _describe(row: StoredRow) -> str:
    return f"{row.topic.rsplit('.', 1)[-1]} of {row.originator_id} v{row.originator_version}"


def _short(digest: bytes | str) -> str:
    text = digest if isinstance(digest, str) else digest.hex()
    return text[:16] + "…"


class _Walk:
    def __init__(
        self,
        entries: Iterable[Entry],
        heads: dict[int, list[SignedCheckpoint]],
        progress: Progress,
        total: int,
    ) -> None:
        self.entries = _Peekable(entries)
        self.total = total
        self.heads = heads
        self.progress = progress
        self.previous = GENESIS
        self.position = 0
        self.last_nid = 0

    def run(self) -> Break | None:
        while (entry := self.entries.pop()) is not None:
            broken = self._step(entry)
            if broken is not None:
                return broken
            if self.position % 10_000 == 0:
                self.progress(self.position, self.total)
        return None

    def _step(self, entry: Entry) -> Break | None:
        expected = self.position + 1
        after = self.entries.peek()
        if entry.event is None:
            position = entry.link.position if entry.link else expected
            return Break(
                BreakKind.MISSING,
                expected,
                entry.notification_id,
                f"the event at notification {entry.notification_id} (chain position "
                f"{position}) is gone; its link remains",
            )
        recomputed = link(self.previous, entry.event)
        if entry.link is None:
            if (
                after is not None
                and after.event
                and after.link
                and after.link.link == link(recomputed, after.event)
            ):
                return Break(
                    BreakKind.HASH_ALTERED,
                    expected,
                    entry.notification_id,
                    f"the link of {_describe(entry.event)} was deleted; the event itself is intact",
                )
            return Break(
                BreakKind.INSERTED,
                expected,
                entry.notification_id,
                f"{_describe(entry.event)} at notification {entry.notification_id} has no link: "
                "it was written behind the recorder's back",
            )
        if entry.link.position != expected:
            return self._out_of_sequence(entry.link, after, expected)
        if recomputed != entry.link.link:
            return self._mismatch(entry.event, entry.link, after, recomputed)
        self.previous = recomputed
        self.position = expected
        self.last_nid = entry.notification_id
        disagreeing = [c for c in self.heads.get(expected, []) if c.checkpoint.head != recomputed.hex()]
        if disagreeing:
            signed = disagreeing[0].checkpoint
            return Break(
                BreakKind.REWRITTEN,
                expected,
                entry.notification_id,
                f"the chain holds together, but its link at position {expected} is {_short(recomputed)} "
                f"where the checkpoint signed {signed.instant} says {_short(signed.head)}: "
                "it was recomputed after a change at or before this position",
            )
        return None

    def _out_of_sequence(self, stored: StoredLink, after: Entry | None, expected: int) -> Break:
        if stored.position > expected and not (after and after.link and after.link.position == expected):
            gone = stored.position - expected
            return Break(
                BreakKind.MISSING,
                expected,
                stored.notification_id,
                f"{gone} event(s) at chain position {expected}"
                + (f"–{stored.position - 1}" if gone > 1 else "")
                + f" (after notification {self.last_nid}) are gone with their links",
            )
        return Break(
            BreakKind.INSERTED,
            expected,
            stored.notification_id,
            f"notification {stored.notification_id} claims chain position {stored.position} where "
            f"position {expected} was due: it was put in out of the chain's sequence",
        )

    def _mismatch(
        self, event: StoredRow, stored_link: StoredLink, after: Entry | None, recomputed: bytes
    ) -> Break:
        stored = stored_link.link
        expected = self.position + 1
        nid = event.notification_id
        if after is not None and after.event is not None and after.link is not None:
            if after.link.link == link(stored, after.event):
                partner = self._swapped_with(event, stored)
                if partner is not None:
                    return Break(
                        BreakKind.REORDERED,
                        expected,
                        nid,
                        f"the events at notifications {nid} and {partner} swapped places",
                    )
                return self._changed(event, expected)
            if after.link.link == link(recomputed, after.event):
                return self._hash_altered(event, expected, nid)
            if (
                link(self.previous, _at(after.event, nid)) == stored
                and link(stored, _at(event, after.notification_id)) == after.link.link
            ):
                return Break(
                    BreakKind.REORDERED,
                    expected,
                    nid,
                    f"the events at notifications {nid} and {after.notification_id} swapped places",
                )
            return self._changed(event, expected)
        if any(c.checkpoint.head == recomputed.hex() for c in self.heads.get(expected, [])):
            return self._hash_altered(event, expected, nid)
        return self._changed(event, expected)

    def _changed(self, row: StoredRow, position: int) -> Break:
        return Break(
            BreakKind.CHANGED,
            position,
            row.notification_id,
            f"{_describe(row)} at notification {row.notification_id} is not the event that was chained: "
            "its stored bytes were changed",
        )

    def _hash_altered(self, row: StoredRow, position: int, nid: int) -> Break:
        return Break(
            BreakKind.HASH_ALTERED,
            position,
            nid,
            f"the stored link at position {position} was changed; {_describe(row)} itself is intact",
        )

    def _swapped_with(self, moved: StoredRow, stored_here: bytes) -> int | None:
        """Walk on (trusting the stored links) to the next disagreement; a swap partner is found there."""
        previous = stored_here
        while (entry := self.entries.pop()) is not None:
            if entry.event is None or entry.link is None:
                return None
            if link(previous, entry.event) != entry.link.link:
                here = entry.notification_id
                if (
                    link(previous, _at(moved, here)) == entry.link.link
                    and link(self.previous, _at(entry.event, moved.notification_id)) == stored_here
                ):
                    return here
                return None
            previous = entry.link.link
        return None


def verify_chain(
    ledger: LedgerStore,
    public_key: str | None,
    *,
    against: Sequence[SignedCheckpoint] = (),
    progress: Progress | None = None,
) -> Verification:
    """Verify the store's chain, its stored checkpoints (with ``public_key``) and ``against``.

    ``against`` are checkpoints someone kept; each is checked with its own key, which is
    the one they trusted when they took it.
    """
    report = progress or (lambda _done, _total: None)
    seals = ledger.seals()
    heads: dict[int, list[SignedCheckpoint]] = {}
    forged: Break | None = None
    for document in ledger.checkpoint_documents():
        if public_key is None:
            continue
        try:
            checkpoint = SignedCheckpoint.parse(document)
        except CheckpointUnreadable as error:
            forged = forged or Break(
                BreakKind.FORGED_CHECKPOINT, 0, None, f"a stored checkpoint is unreadable: {error}"
            )
            continue
        if not checkpoint.signed_by(public_key):
            claimed = checkpoint.checkpoint
            forged = forged or Break(
                BreakKind.FORGED_CHECKPOINT,
                claimed.count,
                claimed.notification_id,
                f"the stored checkpoint of {claimed.instant} (count {claimed.count}) "
                "is not signed by this store's key",
            )
            continue
        heads.setdefault(checkpoint.checkpoint.count, []).append(checkpoint)
    for kept in against:
        if not kept.signed_by(kept.public_key):
            return Verification(
                0,
                GENESIS,
                0,
                Break(
                    BreakKind.FORGED_CHECKPOINT,
                    kept.checkpoint.count,
                    kept.checkpoint.notification_id,
                    "the checkpoint given to verify against has an invalid signature",
                ),
            )
        heads.setdefault(kept.checkpoint.count, []).append(kept)
    total = ledger.event_count()
    last = ledger.last_link()
    if last is None and total:
        return Verification(
            0,
            GENESIS,
            0,
            Break(
                BreakKind.NOT_SEALED,
                1,
                None,
                f"the store holds {total} events and no chain yet: run `zhanyou seal`",
            ),
            seals=seals,
        )
    walk = _Walk(merged(ledger.events(), ledger.links()), heads, report, total)
    broken = walk.run() or forged
    if broken is None and heads:
        furthest = max((c for same in heads.values() for c in same), key=lambda c: c.checkpoint.count)
        if furthest.checkpoint.count > walk.position:
            broken = Break(
                BreakKind.TRUNCATED,
                walk.position + 1,
                None,
                f"the chain ends at position {walk.position}, but the checkpoint signed "
                f"{furthest.checkpoint.instant} counted {furthest.checkpoint.count} events: the tail was cut",
            )
    report(walk.position, total)
    used = sum(len(same) for count, same in heads.items() if count <= walk.position)
    return Verification(walk.position, walk.previous, walk.last_nid, broken, used, seals)
