"""What the commands, the scheduler and the API do with the ledger: seal, checkpoint, verify."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from application.settings import Settings
from ledger.checkpoints import Checkpoint, SignedCheckpoint, public_key_text, sign
from ledger.keys import SigningKeyMissing, signing_key
from ledger.store import VerificationRecord, open_ledger
from ledger.verify import Progress, Verification, verify_chain


class NothingToCheckpoint(Exception):
    """The chain is empty (or the store not sealed): there is no head to sign."""


def seal(settings: Settings, *, by: str, at: datetime) -> tuple[int, bytes] | None:
    """Chain a store whose events predate the chain; None when it is chained already."""
    with open_ledger(settings) as ledger:
        return ledger.seal(by, at.astimezone(UTC).isoformat())


def take_checkpoint(settings: Settings, *, reason: str, signer: str, at: datetime) -> SignedCheckpoint:
    """Sign the chain's current head and keep the checkpoint beside the chain."""
    key = signing_key(settings)
    with open_ledger(settings) as ledger:
        head = ledger.last_link()
        if head is None:
            raise NothingToCheckpoint("nothing is chained yet (an empty store, or one to seal first)")
        checkpoint = Checkpoint(
            count=head.position,
            notification_id=head.notification_id,
            head=head.link.hex(),
            instant=at.astimezone(UTC).isoformat(),
            signer=signer,
            reason=reason,
        )
        signed = sign(checkpoint, key)
        ledger.add_checkpoint(head.position, signed.document())
    return signed


def stored_checkpoints(settings: Settings) -> list[SignedCheckpoint]:
    with open_ledger(settings) as ledger:
        return [SignedCheckpoint.parse(d) for d in ledger.checkpoint_documents()]


def public_key(settings: Settings) -> str | None:
    """The store's public key, when its signing key is known here."""
    try:
        return public_key_text(signing_key(settings, create=False))
    except SigningKeyMissing:
        return None


def verify(
    settings: Settings,
    *,
    key: str | None = None,
    against: Sequence[SignedCheckpoint] = (),
    progress: Progress | None = None,
    record: bool = True,
) -> Verification:
    """Verify the store as it is; the outcome is kept (for ``/metrics``) unless ``record`` is off."""
    started = time.perf_counter()
    with open_ledger(settings) as ledger:
        result = verify_chain(ledger, key or public_key(settings), against=against, progress=progress)
        if record:
            ledger.record_verification(
                VerificationRecord(
                    finished_at=datetime.now(UTC).isoformat(),
                    ok=result.ok,
                    count=result.count,
                    seconds=time.perf_counter() - started,
                    outcome=outcome(result),
                )
            )
    return result


def outcome(result: Verification) -> str:
    if result.broken is None:
        return f"OK {result.count} events, head {result.head.hex()}"
    return f"{result.broken.kind.value} at position {result.broken.position}: {result.broken.detail}"


def last_verification(settings: Settings) -> VerificationRecord | None:
    with open_ledger(settings) as ledger:
        return ledger.last_verification()
