"""Copy a store made without keys into a protected one: keyed ids, encrypted events.

The plain store's contestant and account-claim ids derive from plain ID numbers and
handles, so switching a key on in place would orphan them. The copy reads every event in
log order and writes it to the new store under the new keys: ``person_key`` and
``account_key`` become keyed digests, every id derived from them (contestant, claim,
personal-data log) is the one the new store derives, and every reference to an old id
(quota holders, team members, kept answers) is rewritten. Everything else is copied as it
is, with its original instants, so each history reads as before. Snapshots are not copied:
the new store's aggregates are rebuilt from their events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.errors import ApplicationError
from application.service import CampaignService
from domain.access import PersonalDataLog, personal_data_log_id
from domain.contestant import Contestant
from domain.ids import account_claim_id, contestant_id
from domain.places import AccountClaim

BATCH = 500


class MigrationRefused(ApplicationError):
    rule = "migration_refused"


@dataclass(frozen=True)
class Copied:
    events: int
    contestants: int
    claims: int


def copy_store(
    source: CampaignService, target: CampaignService, *, on_batch: Callable[[int], None] | None = None
) -> Copied:
    """Copy every event of the plain ``source`` into the empty, keyed ``target``."""
    if source.pseudonym("x") != "x":
        raise MigrationRefused("the source store already derives its ids from a key: nothing to protect")
    if target.pseudonym("x") == "x" or target.mapper.cipher is None:
        raise MigrationRefused("the target store needs a cipher key and an id secret")
    if target.last_notification_id() != 0:
        raise MigrationRefused("the target store is not empty")
    ids: dict[UUID, UUID] = {}
    copied = contestants = claims = 0
    batch: list[StoredEvent] = []
    for stored in _all_events(source):
        event = source.mapper.to_domain_event(stored)
        state = dict(vars(event))
        if isinstance(event, Contestant.Nominated):
            state["person_key"] = target.pseudonym(state["person_key"])
            ids[state["originator_id"]] = contestant_id(state["campaign_id"], state["person_key"])
            contestants += 1
        elif isinstance(event, AccountClaim.AccountClaimed):
            state["account_key"] = target.pseudonym(state["account_key"])
            ids[state["originator_id"]] = account_claim_id(state["campaign_id"], state["account_key"])
            claims += 1
        elif isinstance(event, PersonalDataLog.PersonalDataLogOpened):
            ids[state["originator_id"]] = personal_data_log_id(
                ids.get(state["contestant_id"], state["contestant_id"])
            )
        state = {key: _rewritten(value, ids) for key, value in state.items()}
        moved = object.__new__(type(event))
        object.__setattr__(moved, "__dict__", state)
        batch.append(target.mapper.to_stored_event(moved))
        if len(batch) >= BATCH:
            copied += _flush(target, batch, on_batch, copied)
    copied += _flush(target, batch, on_batch, copied)
    return Copied(events=copied, contestants=contestants, claims=claims)


def _flush(
    target: CampaignService, batch: list[StoredEvent], on_batch: Callable[[int], None] | None, done: int
) -> int:
    if not batch:
        return 0
    count = len(batch)
    target.recorder.insert_events(list(batch))
    batch.clear()
    if on_batch is not None:
        on_batch(done + count)
    return count


def _all_events(service: CampaignService) -> Iterator[StoredEvent]:
    """Every stored event in log order (the notification log, page by page)."""
    position = 0
    while True:
        page = service.recorder.select_notifications(start=position, limit=BATCH, inclusive_of_start=False)
        yield from page
        if len(page) < BATCH:
            return
        position = page[-1].id


def _rewritten(value: Any, ids: dict[UUID, UUID]) -> Any:
    """``value`` with every old id (a UUID, or its text) replaced by the new one."""
    if isinstance(value, UUID):
        return ids.get(value, value)
    if isinstance(value, str) and len(value) == 36:
        try:
            found = ids.get(UUID(value))
        except ValueError:
            return value
        return str(found) if found is not None else value
    if isinstance(value, dict):
        return {key: _rewritten(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewritten(item, ids) for item in value]
    if isinstance(value, tuple):
        return tuple(_rewritten(item, ids) for item in value)
    return value
