"""Erasing one person: their key destroyed, nothing personal recoverable, every count kept."""

from __future__ import annotations

import base64
import contextlib
import io
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment
from psycopg import sql

from application import decisions
from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.errors import AlreadyErased, DuplicatePerson, NotPermitted, ReasonRequired
from domain.events import ERASED
from domain.lifecycle import Status
from domain.registrations import DuplicateRegistration
from domain.values import Channel
from ledger.operations import verify
from projections import Views
from projections.audit import AuditFilter, write_csv
from projections.sealing import SEALED, Sealer
from projections.store import views_path
from tests.builders import ADMIN, PUBLIC, city_staff, id_number, make_person, mobile, shanghai
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING
from tests.projections.helpers import AWARDED, Script, head, running_views, scripted_campaign

ERASING = shanghai(2021, 10, 8, 9)
GONE = 4  # a Wuhan veteran who reached the finals team
SAME_HANDLE = 60  # another person who registered with GONE's account
LATER = 61  # repeats GONE's number after the erasure


@pytest.fixture
def keyed(new_store: StoreFactory) -> Settings:
    """A store with its keys set, as every deployment now has them."""
    return new_store(cipher_key=AESCipher.create_key(32), id_secret="s" * 40)


def _traces(seq: int) -> list[str]:
    """What would identify person ``seq``: name, ID number, mobile, account."""
    return [f"选手{seq}", id_number(seq), mobile(seq), f"streamer{seq}"]


def _master(settings: Settings) -> AESCipher:
    assert settings.cipher_key is not None
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: settings.cipher_key.get_secret_value()}))


def _texts(settings: Settings) -> Iterator[str]:
    """Every value of every table and every byte of every file, opened with every key still held:
    the master key, the views' key, and every data key left in the key table."""
    master = _master(settings)
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
    for text in list(opened):  # sealed view text, wherever it lies: a table or a file's free page
        for sealed in re.findall(re.escape(SEALED) + r"[A-Za-z0-9+/=]+", text):
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                opened.append(str(sealer.open(sealed)))
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


def _key_rows(settings: Settings) -> dict[str, bytes | None]:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            query = sql.SQL("SELECT subject, stored FROM {}.person_keys").format(
                sql.Identifier(str(settings.database_schema))
            )
            return {row[0]: None if row[1] is None else bytes(row[1]) for row in connection.execute(query)}
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        rows = connection.execute("SELECT subject, stored FROM person_keys").fetchall()
    return {row[0]: None if row[1] is None else bytes(row[1]) for row in rows}


def _stored_keys(settings: Settings) -> list[bytes]:
    return [stored for stored in _key_rows(settings).values() if stored is not None]


def _raw_values(settings: Settings) -> Iterator[Any]:
    """Every value of every table; on SQLite also every file beside the store, byte for byte
    (free pages and write-ahead logs included); on both the erasure list."""
    if settings.erasures_path.exists():
        yield settings.erasures_path.read_bytes()
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
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (table,) in tables:
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    yield from row
    for file in settings.sqlite_path.parent.iterdir():  # the files, their -wal and -shm, as they lie
        if file.is_file():
            yield file.read_bytes()


def _sealed_view_text(views: Views, contestant: UUID) -> list[str]:
    """The sealed copies of the person's text the views hold: each must go, not only read as gone."""
    found: list[str] = []
    for view in (views.roster, views.teams, views.audit):
        with view.view.read() as tx:
            for table in view.t.values():
                for row in tx.fetchall(f"SELECT * FROM {table}"):
                    if str(contestant) in row.values():
                        found += [v for v in row.values() if isinstance(v, str) and v.startswith(SEALED)]
    return found


def _repeat(
    service: CampaignService, script: Script, seq: int, rule: str, at: datetime, **person: Any
) -> UUID:
    """A self-registration that repeats GONE's ID number or account, as the registration page records it."""
    campaign = service.get_campaign(script.campaign_id)
    repeat = DuplicateRegistration.record(
        DecisionContext(actor=PUBLIC, at=at),
        campaign_id=script.campaign_id,
        person=make_person(seq, group="veteran", **person),
        rule=rule,
        matches=script.id(GONE),
        rule_version=campaign.rule_version,
    )
    service.save(repeat)
    return repeat.id


def _nothing_left(settings: Settings, key: bytes, sealed_copies: list[str]) -> None:
    raw = b"".join(v for v in _raw_values(settings) if isinstance(v, bytes))
    assert key not in raw, "a copy of the destroyed key is left in the files"
    for copy in sealed_copies:
        assert copy.encode() not in raw, "a sealed copy of the person's text is left in the views"


def _erase(service: CampaignService, script: Script, seq: int = GONE) -> int:
    context = DecisionContext(
        actor=ADMIN, at=ERASING, reason="本人申请删除个人信息", evidence="申请书 2021-10-08"
    )
    return service.erase(script.id(seq), context)


def test_an_erased_person_leaves_nothing_recoverable_and_every_count_stays(keyed: Settings) -> None:
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
        said = f"选手{GONE} 决赛第二名，联系电话 {mobile(GONE)}"  # free text naming the person
        service.decide(
            script.id(GONE),
            decisions.award("二等奖"),
            DecisionContext(actor=ADMIN, at=AWARDED, reason=said, evidence=f"身份证 {id_number(GONE)}"),
        )
        repeats = [
            _repeat(service, script, GONE, "duplicate_person", AWARDED),
            _repeat(service, script, SAME_HANDLE, "duplicate_account", AWARDED, handle=f"streamer{GONE}"),
        ]
        with running_views(service, keyed) as (views, runner):
            runner.wait(head(service), timeout=20)
            quotas_before = views.quotas.quotas(script.campaign_id)
            funnel_before = views.funnel.funnel(script.campaign_id)
            trail_before = views.audit.entries(AuditFilter(campaign_id=script.campaign_id))
            before = service.get_contestant(script.id(GONE))
            assert [before.name, before.id_number, before.mobile, before.account] == _traces(GONE)
            reasons = " ".join(str(e.reason) for e in trail_before)
            assert said in reasons
            assert f"streamer{GONE}" in reasons  # the organisers see which account was repeated
            everything = " ".join(_texts(keyed))
            for trace in [*_traces(GONE), f"选手{SAME_HANDLE}", f"hb-train-{GONE:04d}"]:
                assert trace in everything, f"the search does not find {trace!r} where it is"
            key = _key_rows(keyed)[str(script.id(GONE))]
            sealed_copies = _sealed_view_text(views, script.id(GONE))
            assert key is not None
            assert len(sealed_copies) >= 5

            _erase(service, script)
            runner.wait(head(service), timeout=20)
            row = views.roster.get(script.id(GONE))
            assert row is not None
            assert (row.name, row.id_number, row.mobile, row.account) == (ERASED,) * 4
            assert (row.experience, row.notes, row.training_account) == (ERASED, ERASED, None)
            assert (row.status, row.city, row.group) == ("awarded", "武汉市", "veteran")
            assert row.results == {"short_video": 80, "account_operation": 70.5, "livestream_selling": 90}
            assert views.quotas.quotas(script.campaign_id) == quotas_before
            assert views.funnel.funnel(script.campaign_id) == funnel_before
            members = [m.name for team in views.teams.teams(script.campaign_id) for m in team.streamers]
            assert ERASED in members
            assert "选手5" in members
            trail = views.audit.entries(AuditFilter(campaign_id=script.campaign_id))
            assert len(trail) == len(trail_before) + 1  # the trail is kept, the erasure added to it
            mine = [e for e in trail if e.aggregate_id in {str(script.id(GONE)), *map(str, repeats)}]
            assert [e.event_type for e in mine][-1] == "Erased"
            assert mine[-1].reason == "本人申请删除个人信息"
            assert {(e.reason, e.evidence) for e in mine[:-1]} <= {
                (ERASED, ERASED),
                (ERASED, None),
                (None, None),
            }
            assert [(e.actor_user, e.at) for e in mine[:-1]] == [
                (e.actor_user, e.at) for e in trail_before if e.aggregate_id in {e.aggregate_id for e in mine}
            ]
            _nothing_left(keyed, key, sealed_copies)  # while the views are running, their log open

            csv_text = io.StringIO()
            write_csv(trail, csv_text)
            assert ERASED in csv_text.getvalue()
            assert f"选手{GONE}" not in csv_text.getvalue()

            later = _repeat(service, script, LATER, "duplicate_person", ERASING, handle="streamer-later")
            runner.wait(head(service), timeout=20)
            repeat: Any = service.repository.get(later)
            assert repeat.person["name"] == f"选手{LATER}"  # under its own key: the one repeated is gone
            trail = views.audit.entries(AuditFilter(aggregate_id=later))
            assert id_number(LATER)[-4:] not in str(trail[0].reason)

        everything = " ".join(_texts(keyed))
        for trace in [*_traces(GONE), f"选手{SAME_HANDLE}", said, f"hb-train-{GONE:04d}"]:
            assert trace not in everything, f"{trace!r} is still readable"
        assert "选手5" in everything  # nobody else is touched
        _nothing_left(keyed, key, sealed_copies)
        other = service.get_contestant(script.id(5))
        assert [other.name, other.id_number, other.mobile, other.account] == _traces(5)

        contestant = service.get_contestant(script.id(GONE))
        assert (contestant.name, contestant.masked_id_number, contestant.masked_mobile) == (ERASED,) * 3
        assert contestant.status is Status.AWARDED
        history = service.history(script.id(GONE))
        assert history[0].changes["name"] == [None, ERASED]
        assert {entry.reason for entry in history[:-1]} <= {ERASED, None}
        assert history[-1].type == "Erased"
        assert history[-1].reason == "本人申请删除个人信息"
        as_of = service.get_contestant(script.id(GONE), as_of=AWARDED)
        assert (as_of.name, as_of.training_account) == (ERASED, ERASED)
        for repeated in repeats:
            assert service.repository.get(repeated).id_number == ERASED
    assert verify(keyed, record=False).ok  # every chain link still checks: only keys were destroyed


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


def test_a_key_table_restored_from_before_the_erasure_loses_the_key_again_at_start(keyed: Settings) -> None:
    with closing(build_service(keyed)) as service:
        script = scripted_campaign(service)
    subject = str(script.id(GONE))
    kept = _key_rows(keyed)[subject]
    assert kept is not None
    with closing(build_service(keyed)) as service:
        _erase(service, script)
    _restore_key(keyed, subject, kept)  # e.g. the key table of last night's dump, loaded again
    with closing(build_service(keyed)) as service:  # start: the list outside the store is read
        assert _key_rows(keyed)[subject] is None
        assert service.get_contestant(script.id(GONE)).name == ERASED
        assert service.get_contestant(script.id(5)).name == "选手5"


def _restore_key(settings: Settings, subject: str, stored: bytes) -> None:
    if settings.is_postgres:
        with psycopg.connect(settings.database_url, autocommit=True) as connection:
            table = sql.Identifier(str(settings.database_schema), "person_keys")
            statement = sql.SQL("UPDATE {} SET stored = %s, destroyed_at = NULL WHERE subject = %s")
            connection.execute(statement.format(table), (stored, subject))
        return
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        connection.execute(
            "UPDATE person_keys SET stored = ?, destroyed_at = NULL WHERE subject = ?", (stored, subject)
        )
        connection.commit()
