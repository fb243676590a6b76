"""Erasing one person: their key destroyed, nothing personal recoverable, every count kept."""

from __future__ import annotations

import base64
import contextlib
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment
from psycopg import sql

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import AlreadyErased, DuplicatePerson, NotPermitted, ReasonRequired
from domain.events import ERASED
from domain.lifecycle import Status
from domain.values import Channel
from projections.audit import AuditFilter
from projections.sealing import SEALED, Sealer
from projections.store import views_path
from tests.builders import ADMIN, city_staff, id_number, make_person, mobile, shanghai
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING
from tests.projections.helpers import Script, head, running_views, scripted_campaign

ERASING = shanghai(2021, 10, 8, 9)
GONE = 4  # a Wuhan veteran who reached the finals team


@pytest.fixture
def keyed(new_store: StoreFactory) -> Settings:
    """A store with its keys set, as every deployment now has them."""
    return new_store(cipher_key=AESCipher.create_key(32), id_secret="s" * 40)


def _traces(seq: int) -> list[str]:
    """What would identify person ``seq``: name, ID number, mobile, account."""
    return [f"选手{seq}", id_number(seq), mobile(seq), f"streamer{seq}"]


def _texts(settings: Settings, master: Cipher) -> Iterator[str]:
    """Every value of every table, opened with every key still held: the master key, the views'
    key, and every data key left in the key table."""
    sealer = Sealer(settings.cipher_key.get_secret_value() if settings.cipher_key else None)
    opened: list[str] = []
    for value in _raw_values(settings):
        if isinstance(value, bytes | memoryview):
            raw = bytes(value)
            opened.append(raw.decode("utf-8", "replace"))
            try:
                opened.append(master.decrypt(raw).decode("utf-8", "replace"))
            except Exception:  # noqa: S112 - not every blob is under the master key
                continue
        elif isinstance(value, str):
            opened.append(value)
            if value.startswith(SEALED):
                opened.append(str(sealer.open(value)))
    yield from opened
    data_keys = [_data_key(master, stored) for stored in _stored_keys(settings)]
    for sealed in (
        m.group(1) for text in opened for m in re.finditer(r'"sealed": ?"([A-Za-z0-9+/=]+)"', text)
    ):
        for key in data_keys:
            with contextlib.suppress(ValueError):
                yield key.decrypt(base64.b64decode(sealed)).decode()


def _data_key(master: Cipher, stored: bytes) -> AESCipher:
    key = base64.b64encode(master.decrypt(stored)).decode()
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: key}))


def _stored_keys(settings: Settings) -> list[bytes]:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            query = sql.SQL("SELECT stored FROM {}.person_keys WHERE stored IS NOT NULL").format(
                sql.Identifier(str(settings.database_schema))
            )
            return [bytes(row[0]) for row in connection.execute(query)]
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        rows = connection.execute("SELECT stored FROM person_keys WHERE stored IS NOT NULL").fetchall()
    return [bytes(row[0]) for row in rows]


def _raw_values(settings: Settings) -> Iterator[Any]:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            tables = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (settings.database_schema,),
            ).fetchall()
            for (table,) in tables:
                query = sql.SQL("SELECT * FROM {}.{}").format(
                    sql.Identifier(str(settings.database_schema)), sql.Identifier(table)
                )
                for row in connection.execute(query):
                    yield from row
        return
    for path in (settings.sqlite_path, views_path(settings)):
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (table,) in tables:
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    yield from row
        for file in path.parent.glob(path.name + "*"):  # the file itself, its -wal and -shm
            yield file.read_bytes()


def _erase(service: CampaignService, script: Script, seq: int = GONE) -> int:
    context = DecisionContext(
        actor=ADMIN, at=ERASING, reason="本人申请删除个人信息", evidence="申请书 2021-10-08"
    )
    return service.erase(script.id(seq), context)


def test_an_erased_person_leaves_nothing_recoverable_and_every_count_stays(keyed: Settings) -> None:
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
        with running_views(service, keyed) as (views, runner):
            runner.wait(head(service), timeout=20)
            quotas_before = views.quotas.quotas(script.campaign_id)
            funnel_before = views.funnel.funnel(script.campaign_id)
            before = service.get_contestant(script.id(GONE))
            assert [before.name, before.id_number, before.mobile, before.account] == _traces(GONE)
            everything = " ".join(_texts(keyed, service.mapper.cipher))  # type: ignore[arg-type]
            assert f"选手{GONE}" in everything  # the search finds a name the views hold

            _erase(service, script)
            runner.wait(head(service), timeout=20)
            row = views.roster.get(script.id(GONE))
            assert row is not None
            assert (row.name, row.id_number, row.mobile, row.account) == (ERASED,) * 4
            assert (row.status, row.city, row.group) == ("advanced", "武汉市", "veteran")
            assert row.results == {"short_video": 80, "account_operation": 70.5, "livestream_selling": 90}
            assert views.quotas.quotas(script.campaign_id) == quotas_before
            assert views.funnel.funnel(script.campaign_id) == funnel_before
            members = [m.name for team in views.teams.teams(script.campaign_id) for m in team.streamers]
            assert ERASED in members
            assert "选手5" in members
            kinds = [e.event_type for e in views.audit.entries(AuditFilter(aggregate_id=script.id(GONE)))]
            assert kinds[-1] == "Erased"

        everything = " ".join(_texts(keyed, service.mapper.cipher))  # type: ignore[arg-type]
        for trace in _traces(GONE):
            assert trace not in everything, f"{trace!r} is still readable"
        assert "选手5" in everything  # nobody else is touched
        other = service.get_contestant(script.id(5))
        assert [other.name, other.id_number, other.mobile, other.account] == _traces(5)

        contestant = service.get_contestant(script.id(GONE))
        assert (contestant.name, contestant.masked_id_number, contestant.masked_mobile) == (ERASED,) * 3
        assert contestant.status is Status.ADVANCED
        history = service.history(script.id(GONE))
        assert history[0].changes["name"] == [None, ERASED]
        assert history[-1].type == "Erased"
        assert history[-1].reason == "本人申请删除个人信息"


def test_the_same_person_is_not_entered_again_as_new(keyed: Settings) -> None:
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
        _erase(service, script)
        again = make_person(GONE, group="veteran")
        with pytest.raises(DuplicatePerson):
            service.nominate(
                script.campaign_id,
                again,
                Channel.RECOMMENDED,
                DecisionContext(actor=city_staff("武汉市"), at=RECOMMENDING),
            )
        with pytest.raises(AlreadyErased):
            _erase(service, script)


def test_only_organisers_erase_and_with_a_reason(keyed: Settings) -> None:
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
        with pytest.raises(NotPermitted):
            service.erase(script.id(5), DecisionContext(actor=city_staff("武汉市"), at=ERASING, reason="x"))
        with pytest.raises(ReasonRequired):
            service.erase(script.id(5), DecisionContext(actor=ADMIN, at=ERASING))
        assert service.get_contestant(script.id(5)).name == "选手5"


def test_a_backup_from_before_the_erasure_is_erased_again_at_start(keyed: Settings, tmp_path: Any) -> None:
    if keyed.is_postgres:
        pytest.skip("a file copy of the store stands for a backup: SQLite only")
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
    backup = tmp_path / "backup.db"
    shutil.copy(keyed.sqlite_path, backup)
    with closing(build_service(keyed)) as service:
        _erase(service, script)
    for leftover in keyed.sqlite_path.parent.glob(keyed.sqlite_path.name + "-*"):
        leftover.unlink()
    shutil.copy(backup, keyed.sqlite_path)  # the restore: the key and the name are back
    with closing(build_service(keyed)) as service:  # start: the list outside the store is read
        contestant = service.get_contestant(script.id(GONE))
        assert contestant.name == ERASED
        assert [e.type for e in service.history(script.id(GONE))][-1] == "Erased"
        assert service.get_contestant(script.id(5)).name == "选手5"
