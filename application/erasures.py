"""The list of erased contestants, kept apart from the store.

A backup of the store restored from before an erasure still holds the person's key; the
list, kept outside the store, is read at every start and each listed contestant is erased
again. It holds ids, instants and who erased, nothing personal.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from domain.values import Actor, Role


@dataclass(frozen=True)
class Erasure:
    contestant_id: UUID
    at: datetime
    actor: Actor


class ErasureList:
    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, *erasures: Erasure) -> None:
        """Appended and synced to disk before the keys are destroyed, all in one write."""
        if not erasures:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            {
                "contestant_id": str(erasure.contestant_id),
                "at": erasure.at.isoformat(),
                "user": erasure.actor.user,
                "role": erasure.actor.role.value,
            }
            for erasure in erasures
        ]
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write("".join(json.dumps(line) + "\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())

    def entries(self) -> list[Erasure]:
        if not self.path.exists():
            return []
        found: dict[UUID, Erasure] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            contestant = UUID(row["contestant_id"])
            actor = Actor(user=row["user"], role=Role(row["role"]))
            found.setdefault(contestant, Erasure(contestant, datetime.fromisoformat(row["at"]), actor))
        return list(found.values())
