"""Evidence bundles: exported from the store, checked with nothing but the file."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from application.bootstrap import build_service
from application.settings import Settings
from domain.ids import campaign_id
from ledger.bundle import check
from ledger.evidence import export_bundle
from ledger.operations import take_checkpoint
from ledger.signers import names_a_host, signer_name
from tests.builders import id_number
from tests.integration.helpers import CAMPAIGN
from tests.ledger.helpers import NOW, chained_store
from tests.ledger.tamper import Tables


def export(settings: Settings, path: Path, **subject: UUID) -> int:
    service = build_service(settings)
    try:
        return export_bundle(service, settings, path, **subject)[0]
    finally:
        service.close()


def contestant(settings: Settings, seq: int) -> UUID:
    service = build_service(settings)
    try:
        return service.find_contestant(campaign_id(CAMPAIGN), id_number(seq)).id
    finally:
        service.close()


def test_a_contestants_bundle_checks_offline_and_carries_only_their_events(
    settings: Settings, tmp_path: Path
) -> None:
    signed, _ = chained_store(settings)
    person = contestant(signed, 2)
    bundle = tmp_path / "evidence.json"
    assert export(signed, bundle, contestant=person) == 1
    text = bundle.read_text(encoding="utf-8")
    result = check(text)
    assert result.ok, result.detail
    assert result.events == 1
    full = [e for e in json.loads(text)["entries"] if "state" in e]
    assert {e["originator_id"] for e in full} == {str(person)}
    assert "选手3" not in text  # the others are there as digests only


def test_a_campaign_bundle_proves_every_event_of_the_campaign(settings: Settings, tmp_path: Path) -> None:
    signed, checkpoint = chained_store(settings, people=3)
    bundle = tmp_path / "campaign.json"
    proven = export(signed, bundle, campaign=campaign_id(CAMPAIGN))
    result = check(bundle.read_text(encoding="utf-8"))
    assert result.ok, result.detail
    assert result.events == proven == checkpoint.checkpoint.count  # nothing else is in this store


def test_an_altered_bundle_fails_the_check(settings: Settings, tmp_path: Path) -> None:
    signed, _ = chained_store(settings)
    bundle = tmp_path / "evidence.json"
    export(signed, bundle, contestant=contestant(signed, 1))
    data = json.loads(bundle.read_text(encoding="utf-8"))
    event = next(e for e in data["entries"] if "state" in e)
    event["originator_version"] += 1
    assert not check(json.dumps(data)).ok
    data = json.loads(bundle.read_text(encoding="utf-8"))
    data["checkpoint"]["count"] -= 1
    result = check(json.dumps(data))
    assert not result.ok
    assert "signature" in result.detail
    data = json.loads(bundle.read_text(encoding="utf-8"))
    digests = [e for e in data["entries"] if "digest" in e]
    digests[-1]["digest"] = "00" * 32
    assert not check(json.dumps(data)).ok


def test_a_bundle_of_a_tampered_store_fails_the_check(settings: Settings, tmp_path: Path) -> None:
    signed, _ = chained_store(settings)
    person = contestant(signed, 2)
    tables = Tables(signed)
    (nid,) = [n for n in tables.ids() if UUID(str(tables.row(n)[0])) == person]
    tables.flip_byte(nid)
    bundle = tmp_path / "evidence.json"
    export(signed, bundle, contestant=person)
    assert not check(bundle.read_text(encoding="utf-8")).ok


def test_a_bundle_names_no_host_or_pid_and_still_checks(settings: Settings, tmp_path: Path) -> None:
    signed, _ = chained_store(settings)
    # as checkpoints were signed before instance names: host:pid inside the signature
    take_checkpoint(signed, reason="test", signer="scheduler@vm:7355", at=NOW)
    bundle = tmp_path / "evidence.json"
    export(signed, bundle, contestant=contestant(signed, 1))
    text = bundle.read_text(encoding="utf-8")
    assert "vm:7355" not in text
    assert json.loads(text)["checkpoint"]["signer"] == signer_name("export")
    assert not names_a_host(signer_name("export"))
    result = check(text)
    assert result.ok, result.detail
    assert "@" not in result.detail
