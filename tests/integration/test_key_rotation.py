"""Master-key rotation: every data key re-wrapped, the service reading throughout, the old key useless."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from typing import Any

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment
from psycopg import sql
from pydantic import SecretStr

from application.bootstrap import build_service
from application.key_rotation import rotate_master_key
from application.person_keys import key_check
from application.service import CampaignService
from application.settings import Settings, SettingsError
from application.store_keys import remember_keys, resolve_keys
from domain.decision import DecisionContext
from tests.builders import ADMIN, shanghai
from tests.conftest import StoreFactory
from tests.projections.helpers import scripted_campaign

CIPHER, OLD, NEW = (AESCipher.create_key(32) for _ in range(3))
PEOPLE = [f"选手{seq}" for seq in range(1, 10)]


def key_rows(settings: Settings) -> list[tuple[bytes, str | None]]:
    """The live rows of the key table: (wrapped key, check of the master key that wrapped it)."""
    statement = "SELECT stored, wrapped_by FROM {} WHERE stored IS NOT NULL"
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            query = sql.SQL(statement).format(sql.Identifier(str(settings.database_schema), "person_keys"))
            return [(bytes(row[0]), row[1]) for row in connection.execute(query)]
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        rows = connection.execute(statement.format("person_keys")).fetchall()
    return [(bytes(row[0]), row[1]) for row in rows]


def _opens(key: str, stored: bytes) -> bool:
    try:
        AESCipher(Environment(env={AESCipher.CIPHER_KEY: key})).decrypt(stored)
    except ValueError:
        return False
    return True


def _secret(text: str | None) -> SecretStr | None:
    return SecretStr(text) if text else None


def _keyed(settings: Settings, master: str | None, previous: str | None = None) -> Settings:
    return settings.model_copy(
        update={"master_key": _secret(master), "previous_master_key": _secret(previous)}
    )


def _names(service: CampaignService, ids: list[Any]) -> list[str]:
    return [service.get_contestant(i).name for i in ids]


@pytest.fixture
def store(new_store: StoreFactory) -> Settings:
    """A store whose data keys are wrapped under a master key of its own (not the cipher key)."""
    return new_store(cipher_key=CIPHER, id_secret="s" * 40, master_key=OLD)


def test_every_key_is_rewrapped_in_batches_while_the_service_reads(store: Settings) -> None:
    with closing(build_service(store)) as service:
        script = scripted_campaign(service)
    remember_keys(store)
    ids = [script.id(seq) for seq in range(1, 10)]
    assert {check for _, check in key_rows(store)} == {key_check(OLD)}

    rotating = _keyed(store, NEW, OLD)  # every process holds both while it runs
    with closing(build_service(rotating)) as rotator, closing(build_service(rotating)) as reader:
        seen: list[tuple[int, int, list[str]]] = []

        def between_batches(done: int, total: int) -> None:
            reader.person_keys.forget_all()  # read the rows as they are now, half of them re-wrapped
            seen.append((done, total, _names(reader, ids)))
            if (done, total) == (4, 9):
                raise KeyboardInterrupt  # stopped half-way, as by Ctrl-C

        with pytest.raises(KeyboardInterrupt):
            rotate_master_key(rotator.person_keys, batch=2, progress=between_batches)
        assert Counter(check for _, check in key_rows(store)) == {key_check(NEW): 4, key_check(OLD): 5}
        resumed = rotate_master_key(rotator.person_keys, batch=2, progress=between_batches)
    assert (resumed.rewrapped, resumed.left) == (5, 0)
    assert [total for _, total, _ in seen] == [9, 9, 9, 5, 5, 5, 5]
    assert all(names == PEOPLE for _, _, names in seen)  # the service read everything throughout

    rows = key_rows(store)
    assert len(rows) == 9
    assert {check for _, check in rows} == {key_check(NEW)}
    assert all(_opens(NEW, stored) for stored, _ in rows)
    assert not any(_opens(OLD, stored) or _opens(CIPHER, stored) for stored, _ in rows)
    with closing(build_service(_keyed(store, NEW))) as after:  # the new key alone
        assert _names(after, ids) == PEOPLE
    with pytest.raises(SettingsError, match="ZHANYOU_MASTER_KEY"):
        resolve_keys(_keyed(store, OLD))  # a process on the old key alone is refused at start
    assert resolve_keys(_keyed(store, NEW)).settings.master_key is not None


def test_a_store_whose_master_key_was_its_cipher_key_moves_to_a_master_key_of_its_own(
    new_store: StoreFactory,
) -> None:
    settings = new_store(cipher_key=CIPHER, id_secret="s" * 40)
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
    remember_keys(settings)
    assert {check for _, check in key_rows(settings)} == {key_check(CIPHER)}
    moved = _keyed(settings, NEW)  # the cipher key, always held, unwraps what it wrapped
    with closing(build_service(moved)) as service:
        rotation = rotate_master_key(service.person_keys)
        assert (rotation.rewrapped, rotation.left) == (9, 0)
        erased = script.id(4)
        service.erase(erased, DecisionContext(actor=ADMIN, at=shanghai(2021, 10, 8), reason="本人申请"))
        again = rotate_master_key(service.person_keys)
        assert (again.rewrapped, again.left) == (0, 0)  # nothing to do; the erased key stays destroyed
    rows = key_rows(settings)
    assert len(rows) == 8
    assert not any(_opens(CIPHER, stored) for stored, _ in rows)
    with pytest.raises(SettingsError, match="ZHANYOU_MASTER_KEY"):
        resolve_keys(settings)  # without the new master key


def _drop_wrapped_by(settings: Settings) -> None:
    """The key table as a release before master keys had a setting of their own made it."""
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            table = sql.Identifier(str(settings.database_schema), "person_keys")
            connection.execute(sql.SQL("ALTER TABLE {} DROP COLUMN wrapped_by").format(table))
        return
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        connection.execute("ALTER TABLE person_keys DROP COLUMN wrapped_by")
        connection.commit()


def test_a_key_table_made_before_rows_named_their_master_key_still_opens_and_rotates(
    new_store: StoreFactory,
) -> None:
    settings = new_store(cipher_key=CIPHER, id_secret="s" * 40)
    with closing(build_service(settings)) as service:
        script = scripted_campaign(service)
    remember_keys(settings)
    _drop_wrapped_by(settings)
    ids = [script.id(seq) for seq in range(1, 10)]
    resolve_keys(settings)  # rows without a check stand for the cipher key, which is set
    with closing(build_service(settings)) as service:  # the column comes back, empty
        assert {check for _, check in key_rows(settings)} == {None}
        assert _names(service, ids) == PEOPLE
    with closing(build_service(_keyed(settings, NEW))) as service:
        assert rotate_master_key(service.person_keys).rewrapped == 9
    assert {check for _, check in key_rows(settings)} == {key_check(NEW)}
