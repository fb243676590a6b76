"""Master-key rotation: every data key re-wrapped under the new master key while the service runs.

Each row of the key table names the master key that wrapped it, and every process holds the
new master key and the previous one (``ZHANYOU_MASTER_KEY``, ``ZHANYOU_PREVIOUS_MASTER_KEY``),
so a row reads before and after it is re-wrapped: the service never stops reading. Rows are
re-wrapped in batches, each in one transaction and only if the row still holds what was read
(an erasure meanwhile stays done); an interrupted rotation goes on from where it stopped when
run again. The data keys themselves, and so every sealed field and chain hash, stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from application.person_keys import PLAIN, PersonKeys, UnknownMasterKey

Progress = Callable[[int, int], None]  # (re-wrapped so far, to re-wrap in all)


@dataclass(frozen=True)
class Rotation:
    """:ivar left: rows still wrapped under another key (made meanwhile by a process on the old key)."""

    rewrapped: int
    left: int
    target: str  # the check of the master key every row is wrapped under now


class RotationRefused(Exception):
    """Nothing can be re-wrapped as asked; the message says why and what to set."""


def rotate_master_key(keys: PersonKeys, *, batch: int = 500, progress: Progress | None = None) -> Rotation:
    """Re-wrap every live data key not yet wrapped under the master key."""
    masters, table = keys.masters, keys.table
    target = masters.master
    if target == PLAIN:
        raise RotationRefused(
            "ZHANYOU_MASTER_KEY: this store was made without keys; its data keys cannot be wrapped"
        )
    unknown = [check for check in table.master_key_checks() if not masters.holds(check)]
    if unknown:
        raise RotationRefused(str(UnknownMasterKey(str(unknown[0]))))
    total = table.count_keys_to_rewrap(target)
    done = 0
    after = None
    report = progress or (lambda _done, _total: None)
    report(0, total)
    while rows := table.select_keys_to_rewrap(target, after, batch):
        fresh = [(row, masters.wrap(masters.unwrap(row.stored, row.wrapped_by))[0]) for row in rows]
        done += table.rewrap_person_keys(fresh, target)
        after = rows[-1].subject
        report(done, max(total, done))
    return Rotation(done, table.count_keys_to_rewrap(target), target)
