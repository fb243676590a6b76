"""`zhanyou seal`, `verify`, `checkpoint` and `audit export/check` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from application.bootstrap import build_service
from application.settings import Settings
from cli.main import app
from domain.ids import campaign_id
from tests.integration.helpers import CAMPAIGN
from tests.ledger.helpers import chained_store
from tests.ledger.tamper import Tables
from tests.ledger.test_readjudication import AFTER_RECOMMENDATION, late_nomination


def run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"ZHANYOU_DATABASE_URL": settings.database_url}
    if settings.database_schema:
        env["ZHANYOU_DATABASE_SCHEMA"] = settings.database_schema
    if settings.signing_key is not None:
        env["ZHANYOU_SIGNING_KEY"] = settings.signing_key.get_secret_value()
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_verify_says_ok_with_count_and_head_and_exits_non_zero_on_a_break(settings: Settings) -> None:
    signed, checkpoint = chained_store(settings)
    code, out = run(signed, "verify")
    assert code == 0, out
    assert f"OK {checkpoint.checkpoint.count} events, head {checkpoint.checkpoint.head}" in out
    tables = Tables(signed)
    tables.swap(tables.ids()[2], tables.ids()[8])
    code, out = run(signed, "verify")
    assert code == 1, out
    assert "BROKEN at chain position 3" in out
    assert "reordered" in out


def test_a_kept_checkpoint_proves_the_log_only_grew_and_catches_a_cut_tail(
    settings: Settings, tmp_path: Path
) -> None:
    signed, _ = chained_store(settings)
    kept = tmp_path / "checkpoint.json"
    code, out = run(signed, "checkpoint", "-o", str(kept), "--reason", "roster published")
    assert code == 0, out
    assert run(signed, "verify", "--against", str(kept))[0] == 0
    tables = Tables(signed)
    tables.run("DELETE FROM {checkpoints}")  # the store's own checkpoints are gone too
    last = tables.ids()[-1]
    tables.delete_event(last)
    tables.delete_link(last)
    code, out = run(signed, "verify", "--against", str(kept))
    assert code == 1, out
    assert "truncated" in out


def test_seal_chains_an_older_store_once(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    tables = Tables(signed)
    tables.delete_all_links()
    tables.run("DELETE FROM {checkpoints}")
    assert "not sealed" in run(signed, "verify")[1]
    code, out = run(signed, "seal")
    assert code == 0, out
    assert f"sealed {len(tables.ids())} events" in out
    assert "checkpoint signed" in out
    assert run(signed, "seal")[0] == 1
    code, out = run(signed, "verify")
    assert code == 0, out
    assert "sealed " in out
    assert "1 signed checkpoint(s) matched" in out


def test_an_exported_bundle_is_checked_by_the_command(settings: Settings, tmp_path: Path) -> None:
    signed, _ = chained_store(settings)
    bundle = tmp_path / "campaign.json"
    code, out = run(signed, "audit", "export", "--campaign", str(campaign_id(CAMPAIGN)), "-o", str(bundle))
    assert code == 0, out
    code, out = run(signed, "audit", "check", str(bundle))
    assert code == 0, out
    assert out.startswith("OK ")
    bundle.write_text(bundle.read_text().replace('"topic": "domain.', '"topic": "x.', 1))
    assert run(signed, "audit", "check", str(bundle))[0] == 1


def test_replay_lists_a_decision_the_rules_refuse_and_exits_non_zero(settings: Settings) -> None:
    signed, _ = chained_store(settings)
    cid = campaign_id(CAMPAIGN)
    code, out = run(signed, "audit", "replay", "--campaign", str(cid))
    assert code == 0, out
    assert "OK every recorded decision" in out
    service = build_service(signed)
    try:
        late_nomination(service, cid, 9, AFTER_RECOMMENDATION)
    finally:
        service.close()
    code, out = run(signed, "audit", "replay", "--campaign", str(cid))
    assert code == 1, out
    assert "phase_closed" in out
    assert "1 decision(s) the rules refuse" in out
