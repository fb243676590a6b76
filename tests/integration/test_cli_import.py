"""`zhanyou import` acts as a stored user and says by its exit status whether it worked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from cli.main import app
from domain.decision import DecisionContext
from domain.values import Actor, Role
from tests.form_files import as_xlsx, form_cells, person_id, person_row

ORGANISER = Actor("organiser-1", Role.ADMIN)


@pytest.fixture
def stored(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CampaignService]:
    """The store of ``settings``, which the command reads from the environment."""
    monkeypatch.setenv("ZHANYOU_DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("ZHANYOU_DATABASE_SCHEMA", settings.database_schema)
    for name in ("ZHANYOU_CIPHER_KEY", "ZHANYOU_ID_SECRET"):
        monkeypatch.delenv(name, raising=False)
    service = build_service(Settings.load())
    yield service
    service.close()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["import", *args])
    return result.exit_code, result.output


def _campaign_open_for_recommendations(service: CampaignService) -> str:
    now = datetime.now(UTC)
    # the template's recommendation opens 14 days after publicity: start two weeks ago
    start = (now - timedelta(days=15)).date()
    return str(service.launch_campaign("今日", DecisionContext(actor=ORGANISER, at=now), start=start))


def test_an_unknown_campaign_or_user_exits_non_zero(stored: CampaignService, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    form.write_bytes(as_xlsx(form_cells([person_row(1)])))
    stored.create_user(
        "wuhan-1", "city_staff", "武汉市", "0" * 64, DecisionContext(actor=ORGANISER, at=datetime.now(UTC))
    )
    campaign = _campaign_open_for_recommendations(stored)

    unknown_campaign = _run(
        str(form), "--campaign", "00000000-0000-0000-0000-000000000000", "--user", "wuhan-1"
    )
    unknown_user = _run(str(form), "--campaign", campaign, "--user", "nobody")
    no_user = _run(str(form), "--campaign", campaign)

    assert unknown_campaign[0] == 1
    assert "no campaign" in unknown_campaign[1]
    assert unknown_user[0] == 1
    assert "no user is named 'nobody'" in unknown_user[1]
    assert no_user[0] == 2  # --user is required


def test_the_import_is_recorded_as_the_stored_user(stored: CampaignService, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    form.write_bytes(as_xlsx(form_cells([person_row(1), person_row(2, city="黄石市")])))
    stored.create_user(
        "wuhan-1", "city_staff", "武汉市", "0" * 64, DecisionContext(actor=ORGANISER, at=datetime.now(UTC))
    )
    campaign = _campaign_open_for_recommendations(stored)

    status, output = _run(str(form), "--campaign", campaign, "--user", "wuhan-1")

    assert status == 3, output  # the Huangshi row is refused for Wuhan's staff
    assert "1 created" in output
    assert "not_permitted" in output
    imported = stored.find_contestant(UUID(campaign), person_id(1))
    history = stored.history(imported.id)
    assert (history[0].user, history[0].role, history[0].city) == ("wuhan-1", "city_staff", "武汉市")
