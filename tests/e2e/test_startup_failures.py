"""Every start-up failure is one line naming the cause and the setting, and exit status 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from domain.decision import DecisionContext
from tests.conftest import load_settings
from tests.drills.processes import ZHANYOU, store_env
from tests.pg_server import free_port

KEY_A = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
KEY_B = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="


def _fails_in_one_line(command: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [ZHANYOU, command], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "project", "scheduler"])
def test_an_unwritable_views_file_is_one_line(command: str, tmp_path: Path) -> None:
    (tmp_path / "events.views.db").mkdir()  # something that is not a database file, in its place
    line = _fails_in_one_line(command, store_env(f"sqlite:///{tmp_path / 'events.db'}"))
    assert "views file" in line
    assert "ZHANYOU_DATABASE_URL" in line


def test_a_store_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    line = _fails_in_one_line("project", store_env(f"sqlite:///{tmp_path / 'file' / 'events.db'}"))
    assert "cannot be opened for writing" in line
    assert "ZHANYOU_DATABASE_URL" in line


def test_an_unreachable_postgres_is_one_line() -> None:
    line = _fails_in_one_line("serve", store_env(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"))
    assert "unreachable (ZHANYOU_DATABASE_URL)" in line


@pytest.mark.postgres
def test_a_missing_schema_is_one_line(pg_dsn: str) -> None:
    line = _fails_in_one_line("scheduler", store_env(pg_dsn, "no_such_schema_of_zhanyou"))
    assert "ZHANYOU_DATABASE_SCHEMA" in line


def test_a_cipher_key_that_does_not_match_the_events_is_one_line(tmp_path: Path) -> None:
    from application.bootstrap import build_service
    from tests.builders import ADMIN
    from tests.integration.helpers import LAUNCH

    url = f"sqlite:///{tmp_path / 'events.db'}"
    service = build_service(load_settings(database_url=url, cipher_key=KEY_A))
    service.launch_campaign("sealed", DecisionContext(actor=ADMIN, at=LAUNCH))
    service.close()
    line = _fails_in_one_line("project", store_env(url, ZHANYOU_CIPHER_KEY=KEY_B))
    assert "ZHANYOU_CIPHER_KEY" in line
