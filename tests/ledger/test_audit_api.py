"""Auditors over HTTP: the public key and checkpoints, a background verification, its metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from ledger.checkpoints import SignedCheckpoint
from ledger.operations import take_checkpoint
from ledger.signers import instance_name, signer_name
from tests.api.helpers import BOOTSTRAP, Api, Clock, bearer, with_users
from tests.ledger.helpers import NOW, with_key
from tests.ledger.tamper import Tables


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return with_key(settings)


@pytest.fixture
def api(keyed: Settings) -> Iterator[Api]:
    clock = Clock()
    api_settings = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=1000)
    app = create_app(keyed, api_settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        ready = with_users(Api(client, clock))
        ready.launch()
        ready.recommend(1)
        ready.recommend(2)
        yield ready


def verified(api: Api, *, fresh: bool = False) -> dict[str, object]:
    """Start (or read) the background verification, wait for it to end, and read its outcome."""
    auditor = api.as_("auditor")
    answer = api.client.get("/api/audit/verify", params={"fresh": fresh}, headers=auditor)
    assert answer.status_code == 200, answer.text
    assert api.client.app.state.verification.wait(30)  # type: ignore[attr-defined]
    done = api.client.get("/api/audit/verify", headers=auditor).json()
    assert done["state"] == "done", done
    return dict(done)


def test_auditors_read_the_public_key_and_the_signed_checkpoints(api: Api, keyed: Settings) -> None:
    signed = take_checkpoint(keyed, reason="roster published", signer="tests", at=NOW)
    answer = api.client.get("/api/audit/checkpoints", headers=api.as_("auditor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["public_key"] == signed.public_key
    assert [c["head"] for c in body["checkpoints"]] == [signed.checkpoint.head]
    assert body["checkpoints"][0]["reason"] == "roster published"


def test_only_organisers_see_a_signers_host_and_pid_and_their_copy_verifies(
    api: Api, keyed: Settings
) -> None:
    old = take_checkpoint(keyed, reason="roster published", signer="scheduler@vm:7355", at=NOW)
    new = take_checkpoint(keyed, reason="on demand", signer=signer_name("cli"), at=NOW)
    assert new.checkpoint.signer.startswith("cli-")
    assert "@" not in new.checkpoint.signer
    assert ":" not in new.checkpoint.signer

    def listed(role: str) -> list[dict[str, object]]:
        answer = api.client.get("/api/audit/checkpoints", headers=api.as_(role))
        assert answer.status_code == 200, answer.text
        return list(answer.json()["checkpoints"])

    audited, organised = listed("auditor"), listed("admin")
    assert [(c["signer"], c["signer_masked"]) for c in audited] == [
        (instance_name("vm:7355"), True),  # the very name /schedule gives that scheduler
        (new.checkpoint.signer, False),
    ]
    assert "vm:7355" not in str(audited)
    assert [(c["signer"], c["signer_masked"]) for c in organised] == [
        ("scheduler@vm:7355", False),
        (new.checkpoint.signer, False),
    ]
    public_key = old.public_key

    def verifies(document: dict[str, object]) -> bool:
        fields = {k: v for k, v in document.items() if k != "signer_masked"}
        return SignedCheckpoint.parse(fields).signed_by(public_key)

    assert [verifies(c) for c in organised] == [True, True]
    assert [verifies(c) for c in audited] == [False, True]  # a masked signer is shown, not signed


@pytest.mark.parametrize("role", ["city_staff", "judge", "leader"])
def test_others_may_not_read_the_audit_endpoints(api: Api, role: str) -> None:
    for path in ("/api/audit/checkpoints", "/api/audit/verify"):
        answer = api.client.get(path, headers=api.as_(role))
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_background_verification_reports_ok_and_shows_in_the_metrics(api: Api) -> None:
    outcome = verified(api)
    assert outcome["ok"] is True
    assert outcome["count"] == outcome["total"] == outcome["done"]
    metrics = api.client.get("/metrics", headers=bearer(BOOTSTRAP)).text
    assert "zhanyou_chain_verification_ok 1" in metrics
    assert f"zhanyou_chain_verification_events {outcome['count']}" in metrics
    assert "zhanyou_chain_verification_timestamp_seconds " in metrics


def test_a_fresh_verification_finds_a_tampered_event_and_the_metrics_say_so(
    api: Api, keyed: Settings
) -> None:
    assert verified(api)["ok"] is True
    tables = Tables(keyed)
    tables.flip_byte(tables.ids()[3])
    outcome = verified(api, fresh=True)
    assert outcome["ok"] is False
    assert outcome["broken"] == {
        "kind": "changed",
        "position": 4,
        "notification_id": tables.ids()[3],
        "detail": outcome["broken"]["detail"],  # type: ignore[index]
    }
    assert "zhanyou_chain_verification_ok 0" in api.client.get("/metrics", headers=bearer(BOOTSTRAP)).text
