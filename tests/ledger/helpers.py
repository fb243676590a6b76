"""A small chained store with a signed checkpoint, for the ledger tests."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

from pydantic import SecretStr

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.ids import campaign_id
from ledger.checkpoints import SignedCheckpoint
from ledger.operations import take_checkpoint
from ledger.verify import BreakKind, Verification
from tests.integration.helpers import CAMPAIGN, launch, recommend

NOW = datetime(2021, 6, 12, 8, tzinfo=UTC)


def with_key(settings: Settings) -> Settings:
    """The store's settings with a signing key of its own (PostgreSQL requires one)."""
    key = base64.b64encode(os.urandom(32)).decode()
    return settings.model_copy(update={"signing_key": SecretStr(key)})


def fill(service: CampaignService, people: range) -> None:
    """Recommend ``people`` (by sequence number); the campaign is launched with the first."""
    campaign = launch(service) if people.start == 1 else campaign_id(CAMPAIGN)
    for seq in people:
        recommend(service, campaign, seq)


def chained_store(settings: Settings, people: int = 4) -> tuple[Settings, SignedCheckpoint]:
    """A store with a few contestants, checkpointed at its head."""
    signed = with_key(settings)
    service = build_service(signed)
    try:
        fill(service, range(1, people + 1))
    finally:
        service.close()
    return signed, take_checkpoint(signed, reason="test", signer="tests", at=NOW)


def broken(result: Verification) -> BreakKind | None:
    return None if result.broken is None else result.broken.kind
