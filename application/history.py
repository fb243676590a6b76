"""A contestant's decision history as an auditor reads it: who, when, why, and what changed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.events import DecisionEvent
from domain.values import mask_id_number, mask_mobile

_MASKS = {"id_number": mask_id_number, "mobile": mask_mobile}
_INTERNAL = {"pending_events", "id", "version", "created_on", "modified_on"}


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    type: str
    at: datetime
    user: str | None
    role: str | None
    city: str | None
    reason: str | None
    evidence: str | None
    rule_version: int | None
    changes: dict[str, list[Any]]  # field -> [before, after], personal numbers masked
    fields: list[str] | None = None  # a read of personal data: the fields asked for


def decisions_of(events: Iterable[object]) -> list[DecisionEvent]:
    """A contestant's events, every one a decision (each of its declared events is one)."""
    found: list[DecisionEvent] = []
    for domain_event in events:
        if not isinstance(domain_event, DecisionEvent):
            raise TypeError(f"{type(domain_event).__qualname__} records no decision")
        found.append(domain_event)
    return found


def history_of(events: Sequence[DecisionEvent]) -> list[HistoryEntry]:
    """Replay the events one by one (no rule is re-checked) and diff each state."""
    entries: list[HistoryEntry] = []
    aggregate: Aggregate | None = None
    before: dict[str, Any] = {}
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
        after = deepcopy(_public_state(aggregate))
        changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
        decision, actor = domain_event.decision, domain_event.decision.actor
        entries.append(
            HistoryEntry(
                version=domain_event.originator_version,
                type=type(domain_event).__name__,
                at=domain_event.timestamp,
                user=actor.user,
                role=actor.role.value,
                city=actor.city,
                reason=decision.reason,
                evidence=decision.evidence,
                rule_version=decision.rule_version,
                changes=changes,
            )
        )
        before = after
    return entries


def _public_state(aggregate: object) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for key, value in vars(aggregate).items():
        name = key.lstrip("_")
        if name in _INTERNAL:
            continue
        if name in _MASKS and isinstance(value, str):
            value = _MASKS[name](value)
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, UUID):
            value = str(value)
        state[name] = value
    return state


#: The events of a contestant's record of personal-data reads that a history shows.
READS = ("PersonalDataRead", "PersonalDataReadRefused")


def with_reads(entries: Sequence[HistoryEntry], log_events: Sequence[Any]) -> list[HistoryEntry]:
    """The decisions and the reads of the person's numbers (granted or refused), in time order.

    A read changes nothing: it carries the contestant's version as it stood when it was made.
    """
    reads = [
        HistoryEntry(
            version=0,
            type=type(e).__name__,
            at=e.timestamp,
            user=e.actor.user,
            role=e.actor.role.value,
            city=e.actor.city,
            reason=None,
            evidence=None,
            rule_version=None,
            changes={},
            fields=list(e.fields),
        )
        for e in log_events
        if type(e).__name__ in READS
    ]
    merged = sorted([*entries, *reads], key=lambda entry: entry.at)  # stable: decisions first on a tie
    version = 0
    found: list[HistoryEntry] = []
    for entry in merged:
        if entry.type in READS:
            entry = replace(entry, version=version)
        version = entry.version
        found.append(entry)
    return found
