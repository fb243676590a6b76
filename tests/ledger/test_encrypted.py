"""With encryption at rest the chain runs over the ciphertext: verified and bundled without the key."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from application.bootstrap import build_service
from application.settings import Settings
from domain.ids import campaign_id
from ledger.bundle import check
from ledger.evidence import export_bundle
from ledger.operations import take_checkpoint, verify
from ledger.verify import BreakKind
from tests.conftest import StoreFactory
from tests.integration.helpers import CAMPAIGN
from tests.ledger.helpers import NOW, fill, with_key
from tests.ledger.tamper import Tables


def encrypted_store(new_store: StoreFactory) -> Settings:
    settings = with_key(new_store(cipher_key=AESCipher.create_key(32)))
    service = build_service(settings)
    try:
        fill(service, range(1, 4))
    finally:
        service.close()
    take_checkpoint(settings, reason="test", signer="tests", at=NOW)
    return settings


def test_the_chain_is_verified_over_the_ciphertext_without_the_cipher_key(new_store: StoreFactory) -> None:
    settings = encrypted_store(new_store)
    tables = Tables(settings)
    assert b"\xe9\x80\x89\xe6\x89\x8b" not in b"".join(tables.row(n)[3] for n in tables.ids())  # no "选手"
    keyless = settings.model_copy(update={"cipher_key": SecretStr("")})
    assert verify(keyless).ok
    tables.flip_byte(tables.ids()[4], offset=40)
    result = verify(keyless)
    assert result.broken is not None
    assert result.broken.kind is BreakKind.CHANGED


def test_an_encrypted_campaigns_bundle_checks_offline(new_store: StoreFactory, tmp_path: Path) -> None:
    settings = encrypted_store(new_store)
    service = build_service(settings)
    try:
        export_bundle(service, settings, tmp_path / "b.json", campaign=campaign_id(CAMPAIGN))
    finally:
        service.close()
    assert check((tmp_path / "b.json").read_text()).ok
