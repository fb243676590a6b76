"""Encryption at rest: personal numbers never reach the store's rows in the clear."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from uuid import UUID

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from psycopg import sql
from pydantic import SecretStr

from application.bootstrap import build_service
from application.errors import StoreUnavailable
from application.settings import Settings
from domain.decision import DecisionContext
from domain.ids import campaign_id as campaign_id_of
from domain.values import Channel, Person
from tests.builders import city_staff, make_person
from tests.conftest import StoreFactory
from tests.integration.helpers import CAMPAIGN, RECOMMENDING, launch


def stored_rows(settings: Settings) -> dict[str, list[bytes]]:
    """Every row of every table of the store, each row's values joined as raw bytes."""
    return _postgres_rows(settings) if settings.is_postgres else _sqlite_rows(settings)


def _postgres_rows(settings: Settings) -> dict[str, list[bytes]]:
    schema = settings.database_schema or "public"
    listing = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
    with psycopg.connect(settings.database_url) as connection:

        def rows(table: str) -> list[bytes]:
            query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
            return [_raw(row) for row in connection.execute(query)]

        return {table: rows(table) for (table,) in connection.execute(listing, [schema]).fetchall()}


def _sqlite_rows(settings: Settings) -> dict[str, list[bytes]]:
    listing = "SELECT name FROM sqlite_master WHERE type = 'table'"
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        return {
            table: [_raw(row) for row in connection.execute(f'SELECT * FROM "{table}"')]
            for (table,) in connection.execute(listing).fetchall()
        }


def _raw(row: tuple[object, ...]) -> bytes:
    return b"|".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode() for value in row
    )


def _nominate(settings: Settings, person: Person) -> UUID:
    """Launch a campaign in the store and recommend the person; returns the contestant id."""
    with closing(build_service(settings)) as service:
        campaign_id = launch(service)
        staff = city_staff(person.city)
        return service.nominate(
            campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=RECOMMENDING)
        ).id


def _exposes(settings: Settings, person: Person) -> dict[str, bool]:
    everything = b"\n".join(row for rows in stored_rows(settings).values() for row in rows)
    return {
        "id_number": person.id_number.value.encode() in everything,
        "mobile": person.mobile.value.encode() in everything,
    }


def test_personal_numbers_are_stored_encrypted_when_a_key_is_set(new_store: StoreFactory) -> None:
    person = make_person(11)
    encrypted = new_store(cipher_key=AESCipher.create_key(32))
    plain = new_store()
    contestant_id = _nominate(encrypted, person)
    plain_id = _nominate(plain, person)
    # Ids are stored in the clear: with a key they are keyed digests, not guessable from the number.
    assert contestant_id != plain_id

    tables = stored_rows(encrypted)
    assert tables.get("zhanyou_events" if encrypted.is_postgres else "stored_events"), tables.keys()
    assert _exposes(encrypted, person) == {"id_number": False, "mobile": False}
    # Without a key the id digest is the number itself; the mobile is sealed under the person's key.
    assert _exposes(plain, person) == {"id_number": True, "mobile": False}

    with closing(build_service(encrypted)) as service:
        contestant = service.get_contestant(contestant_id)
    assert (contestant.id_number, contestant.mobile) == (person.id_number.value, person.mobile.value)


def test_reading_with_a_different_key_or_none_fails_loudly(new_store: StoreFactory) -> None:
    person = make_person(12)
    encrypted = new_store(cipher_key=AESCipher.create_key(32))
    contestant_id = _nominate(encrypted, person)
    campaign_id = campaign_id_of(CAMPAIGN)

    other_key = encrypted.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
    with (
        closing(build_service(other_key)) as service,
        pytest.raises(StoreUnavailable, match=r"Invalid cipher tag.*is the cipher key the one"),
    ):
        service.get_campaign(campaign_id)
    no_key = encrypted.model_copy(update={"cipher_key": None})
    with closing(build_service(no_key)) as service, pytest.raises(StoreUnavailable, match="cipher key"):
        service.get_contestant(contestant_id)
