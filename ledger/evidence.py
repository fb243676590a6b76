"""Which stored events concern a contestant or a campaign, and writing their evidence bundle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.service import CampaignService
from application.settings import Settings
from domain.access import personal_data_log_id
from ledger.bundle import build
from ledger.checkpoints import SignedCheckpoint
from ledger.links import StoredRow
from ledger.operations import take_checkpoint
from ledger.signers import names_a_host, signer_name
from ledger.store import PostgresLedger, SQLiteLedger, StoredLink, open_ledger
from ledger.verify import merged


class NothingConcerned(LookupError):
    """No stored event concerns the asked contestant or campaign."""


def _created(service: CampaignService, row: StoredRow) -> Any:
    return service.mapper.to_domain_event(
        StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
    )


def concerned_ids(
    service: CampaignService, rows: Iterator[StoredRow], *, contestant: UUID | None, campaign: UUID | None
) -> set[UUID]:
    """The aggregates concerned: the contestant (and the record of reads of their data), or the
    campaign with every aggregate created for it and those contestants' read records."""
    if contestant is not None:
        return {contestant, personal_data_log_id(contestant)}
    found: set[UUID] = set()
    for row in rows:
        if row.originator_version != 1 or not isinstance(row.originator_id, UUID):
            continue
        if row.originator_id == campaign:
            found.add(row.originator_id)
            continue
        event = _created(service, row)
        if getattr(event, "campaign_id", None) == campaign:
            found.add(row.originator_id)
            found.add(personal_data_log_id(row.originator_id))
    return found


def export_bundle(
    service: CampaignService,
    settings: Settings,
    output: Path,
    *,
    contestant: UUID | None = None,
    campaign: UUID | None = None,
) -> tuple[int, SignedCheckpoint]:
    """Write the bundle; returns how many events it proves and the checkpoint it proves them with."""
    with open_ledger(settings) as ledger:
        concerned = concerned_ids(service, ledger.events(), contestant=contestant, campaign=campaign)
        chained = [stored.position for row, stored in _paired(ledger) if row.originator_id in concerned]
        checkpoints = [SignedCheckpoint.parse(d) for d in ledger.checkpoint_documents()]
    if not chained:
        raise NothingConcerned("no chained event concerns it")
    covering = [c for c in checkpoints if c.checkpoint.count >= max(chained)]
    checkpoint = covering[-1] if covering else None
    # one signed before instance names holds host:pid inside its signature: a bundle travels, so
    # it is proven against a checkpoint signed now instead
    if checkpoint is None or names_a_host(checkpoint.checkpoint.signer):
        now = datetime.now(UTC)
        checkpoint = take_checkpoint(settings, reason="evidence export", signer=signer_name("export"), at=now)
    subject = {"contestant": str(contestant)} if contestant is not None else {"campaign": str(campaign)}
    with open_ledger(settings) as ledger, output.open("w", encoding="utf-8") as file:
        for piece in build(subject, _paired(ledger), concerned, checkpoint, datetime.now(UTC).isoformat()):
            file.write(piece)
    return len(chained), checkpoint


def _paired(ledger: SQLiteLedger | PostgresLedger) -> Iterator[tuple[StoredRow, StoredLink]]:
    """Chained events with their links, in position order (unchained rows are no evidence)."""
    for entry in merged(ledger.events(), ledger.links()):
        if entry.event is not None and entry.link is not None:
            yield entry.event, entry.link
