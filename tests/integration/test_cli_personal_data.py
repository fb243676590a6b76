"""`zhanyou erase`, `zhanyou retention` and `zhanyou rotate-key` on a store with its keys set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from typer.testing import CliRunner

from application.bootstrap import build_service
from application.person_keys import key_check
from application.service import CampaignService
from application.settings import Settings
from cli.main import app
from domain.decision import DecisionContext
from domain.events import ERASED
from domain.retention import RetentionPolicy
from tests.builders import ADMIN
from tests.integration.helpers import CAMPAIGN, LAUNCH, recommend
from tests.integration.test_key_rotation import key_rows

NEW_MASTER = AESCipher.create_key(32)


@pytest.fixture
def stored(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CampaignService]:
    """A keyed store, which the commands read from the environment."""
    monkeypatch.setenv("ZHANYOU_DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("ZHANYOU_DATABASE_SCHEMA", settings.database_schema)
    monkeypatch.setenv("ZHANYOU_CIPHER_KEY", AESCipher.create_key(32))
    monkeypatch.setenv("ZHANYOU_ID_SECRET", "i" * 40)
    monkeypatch.setenv("ZHANYOU_ERASURE_LIST", str(settings.erasures_path))
    for name in ("ZHANYOU_MASTER_KEY", "ZHANYOU_PREVIOUS_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    service = build_service(Settings.load())
    yield service
    service.close()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _people(service: CampaignService, count: int = 3) -> tuple[UUID, list[UUID]]:
    campaign = service.launch_campaign(
        CAMPAIGN, DecisionContext(actor=ADMIN, at=LAUNCH), retention=RetentionPolicy(30)
    )
    service.create_user(
        "organiser-2", "admin", None, "0" * 64, DecisionContext(actor=ADMIN, at=datetime.now(UTC))
    )
    service.create_user(
        "wuhan-1", "city_staff", "武汉市", "1" * 64, DecisionContext(actor=ADMIN, at=datetime.now(UTC))
    )
    return campaign, [recommend(service, campaign, seq) for seq in range(1, count + 1)]


def test_erase_acts_as_a_stored_organiser_and_says_why_it_did_not(stored: CampaignService) -> None:
    _, people = _people(stored)
    target = str(people[0])
    unknown = _run(
        "erase", "00000000-0000-0000-0000-000000000000", "--reason", "本人申请", "--user", "organiser-2"
    )
    nobody = _run("erase", target, "--reason", "本人申请", "--user", "nobody")
    staff = _run("erase", target, "--reason", "本人申请", "--user", "wuhan-1")
    no_reason = _run("erase", target, "--user", "organiser-2")
    blank = _run("erase", target, "--reason", "  ", "--user", "organiser-2")
    assert unknown[0] == 1
    assert "nothing erased: no contestant" in unknown[1]
    assert nobody[0] == 1
    assert "no enabled user is named 'nobody'" in nobody[1]
    assert staff[0] == 1
    assert "may not do this" in staff[1]
    assert no_reason[0] == 2  # --reason is required
    assert "--reason" in no_reason[1]
    assert blank[0] == 1
    assert "a reason is required" in blank[1]
    assert stored.get_contestant(people[0]).name == "选手1"

    status, output = _run(
        "erase", target, "--reason", "本人申请删除", "--user", "organiser-2", "--evidence", "申请书"
    )
    assert status == 0, output
    assert "选手1" not in output
    stored.person_keys.forget(people[0])  # erased by another process
    assert stored.get_contestant(people[0]).name == ERASED
    erased = stored.history(people[0])[-1]
    assert (erased.type, erased.user, erased.role, erased.reason) == (
        "Erased",
        "organiser-2",
        "admin",
        "本人申请删除",
    )
    again = _run("erase", target, "--reason", "再次", "--user", "organiser-2")
    assert again[0] == 1
    assert "erased already" in again[1]


def test_retention_lists_who_would_go_masked_and_erases_nobody(stored: CampaignService) -> None:
    campaign, people = _people(stored, count=2)
    status, output = _run("retention", str(campaign))
    assert status == 0, output
    assert "2021-10-16T00:00+08:00" in output
    assert "选**" in output
    assert "选手1" not in output
    assert all(str(p) in output for p in people)
    assert stored.get_contestant(people[0]).name == "选手1"


def test_rotate_key_rewraps_every_data_key_and_the_old_key_is_then_refused(
    stored: CampaignService, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, people = _people(stored)
    unset = _run("rotate-key")
    assert unset[0] == 2
    assert "ZHANYOU_MASTER_KEY" in unset[1]
    monkeypatch.setenv("ZHANYOU_MASTER_KEY", NEW_MASTER)  # the old master key was the cipher key
    status, output = _run("rotate-key", "--batch", "2")
    assert status == 0, output
    assert "re-wrapped 3 data keys" in output
    keyed = Settings.load()
    assert {row[1] for row in key_rows(keyed)} == {key_check(NEW_MASTER)}
    with closing(build_service(keyed)) as reader:
        assert [reader.get_contestant(p).name for p in people] == ["选手1", "选手2", "选手3"]
    monkeypatch.delenv("ZHANYOU_MASTER_KEY")  # a process still on the old key is refused at start
    refused = _run("retention", "00000000-0000-0000-0000-000000000000")
    assert refused[0] == 2
    assert "ZHANYOU_MASTER_KEY" in refused[1]
