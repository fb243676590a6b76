"""The signing key: generated owner-only beside an embedded store, required with PostgreSQL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from application.settings import SettingsError
from ledger.checkpoints import public_key_text
from ledger.keys import SigningKeyMissing, key_file, signing_key
from tests.conftest import load_settings


def test_an_embedded_store_gets_one_key_owner_only_in_its_data_folder(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'data' / 'zhanyou.db'}")
    first = signing_key(settings)
    path = key_file(settings)
    assert path == tmp_path / "data" / "signing-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(signing_key(settings)) == public_key_text(first)  # kept, not made again


def test_postgresql_requires_the_key() -> None:
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(SigningKeyMissing, match="ZHANYOU_SIGNING_KEY"):
        signing_key(settings)


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ="])
def test_a_bad_key_names_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="ZHANYOU_SIGNING_KEY"):
        load_settings(signing_key=value)
