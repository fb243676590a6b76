"""Secure by default: keyed ids, encrypted events and owner-only files without any setting."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr
from stdnum.cn import ric

from application.bootstrap import build_service
from application.settings import Settings, SettingsError
from application.store_keys import (
    is_plain,
    read_record,
    remember_keys,
    resolve_keys,
    secrets_path,
    side_file,
)
from domain.decision import DecisionContext
from domain.ids import contestant_id
from domain.values import Channel
from projections import open_views
from tests.builders import city_staff, make_person
from tests.integration.helpers import RECOMMENDING, launch
from tests.integration.test_encryption import stored_rows

ZHANYOU = str(Path(sys.executable).with_name("zhanyou"))


def default_settings(settings: Settings) -> Settings:
    """What a deployment with no key set gets: generated keys (SQLite) or, on PostgreSQL, a refusal
    (then the keys an operator sets)."""
    if not settings.is_postgres:
        return resolve_keys(settings).settings
    with pytest.raises(SettingsError, match=r"^ZHANYOU_CIPHER_KEY, ZHANYOU_ID_SECRET: "):
        resolve_keys(settings)
    configured = settings.model_copy(
        update={"cipher_key": SecretStr(AESCipher.create_key(32)), "id_secret": SecretStr("s" * 40)}
    )
    return resolve_keys(configured).settings


def reverse_id(campaign: UUID, masked: str, contestant: UUID) -> str | None:
    """The attack: a masked number leaves only the birth date unknown; try every date."""
    head, tail = masked[:6], masked[-4:]
    day = date(1930, 1, 1)
    while day <= date(2015, 12, 31):
        candidate = f"{head}{day:%Y%m%d}{tail}"
        if ric.calc_check_digit(candidate[:17]) == candidate[17] and (
            contestant_id(campaign, candidate) == contestant
        ):
            return candidate
        day += timedelta(days=1)
    return None


def _nominate(settings: Settings, seq: int) -> tuple[UUID, UUID, str]:
    person = make_person(seq)
    with closing(build_service(settings)) as service:
        campaign = launch(service)
        staff = city_staff(person.city)
        nominated = service.nominate(
            campaign, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=RECOMMENDING)
        )
    return campaign, nominated.id, person.id_number.masked


def test_a_masked_id_number_and_the_contestant_id_do_not_give_the_number_back(settings: Settings) -> None:
    secured = default_settings(settings)
    campaign, contestant, masked = _nominate(secured, 21)
    assert masked.startswith("420102********")
    assert reverse_id(campaign, masked, contestant) is None


def test_the_attack_is_real_on_a_store_made_without_keys(settings: Settings) -> None:
    campaign, contestant, masked = _nominate(settings, 22)  # a store made before keys were the default
    assert reverse_id(campaign, masked, contestant) == make_person(22).id_number.value


def test_events_hold_no_plain_id_or_mobile_number_by_default(settings: Settings) -> None:
    secured = default_settings(settings)
    person = make_person(23)
    _nominate(secured, 23)
    everything = b"\n".join(row for rows in stored_rows(secured).values() for row in rows)
    assert person.id_number.value.encode() not in everything
    assert person.mobile.value.encode() not in everything
    assert person.name.encode() not in everything


def test_the_embedded_store_gets_owner_only_keys_and_files(tmp_path: Path) -> None:
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'data' / 'zhanyou.db'}", cipher_key=None)
    settings = settings.model_copy(update={"id_secret": None})
    first = resolve_keys(settings)
    assert first.generated == secrets_path(settings)
    assert not is_plain(first.settings)
    again = resolve_keys(settings)  # a second start reads the same keys back, generates nothing
    assert again.generated is None
    assert again.settings.cipher_key == first.settings.cipher_key
    assert again.settings.id_secret == first.settings.id_secret

    with closing(build_service(first.settings)) as service:
        launch(service)
    open_views(first.settings).close()
    remember_keys(first.settings)
    folder = settings.sqlite_path.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (settings.sqlite_path, side_file(settings, "views"), secrets_path(settings)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_older_files_are_tightened_at_start(tmp_path: Path) -> None:
    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'zhanyou.db'}", cipher_key=None)
    settings = settings.model_copy(update={"id_secret": None})
    with closing(build_service(settings)) as service:
        launch(service)
    settings.sqlite_path.chmod(0o644)
    resolve_keys(settings)
    assert stat.S_IMODE(settings.sqlite_path.stat().st_mode) == 0o600


def test_a_store_made_without_keys_opens_as_it_was(settings: Settings) -> None:
    campaign, contestant, _ = _nominate(settings, 24)  # made before keys were recorded
    assert read_record(settings) is None
    resolved = resolve_keys(settings).settings
    assert is_plain(resolved)
    remember_keys(resolved)
    assert is_plain(resolve_keys(settings).settings)  # recorded plain: stays plain
    with closing(build_service(resolved)) as service:
        assert service.get_contestant(contestant).campaign_id == campaign

    keyed = settings.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
    with pytest.raises(SettingsError, match=r"^ZHANYOU_CIPHER_KEY: .* was made without keys"):
        resolve_keys(keyed)


def test_another_id_secret_than_the_stores_is_refused(settings: Settings) -> None:
    secured = default_settings(settings)
    remember_keys(secured)
    other = secured.model_copy(update={"id_secret": SecretStr("another secret of forty characters....")})
    with pytest.raises(SettingsError, match=r"^ZHANYOU_ID_SECRET: not the key the store"):
        resolve_keys(other)
    if not settings.is_postgres:
        assert resolve_keys(settings).settings.id_secret == secured.id_secret  # read from the secrets file


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env["ZHANYOU_DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["ZHANYOU_DATABASE_SCHEMA"] = settings.database_schema
    return env


def test_a_command_on_a_new_store_without_keys(settings: Settings) -> None:
    """PostgreSQL: refused in one line naming both variables; SQLite: keys made and said so."""
    done = subprocess.run(
        [ZHANYOU, "rebuild", "roster"], env=_env(settings), capture_output=True, text=True, timeout=120
    )
    if settings.is_postgres:
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("zhanyou: ZHANYOU_CIPHER_KEY, ZHANYOU_ID_SECRET: "), done.stderr
        return
    assert done.returncode == 0, done.stderr
    assert f"made a cipher key and an id secret for this new store in {secrets_path(settings)}" in done.stderr
    assert stat.S_IMODE(secrets_path(settings).stat().st_mode) == 0o600
    assert stat.S_IMODE(side_file(settings, "views").stat().st_mode) == 0o600
