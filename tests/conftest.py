"""Fixtures shared by every test: the stores, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from tests import pg_server

StoreFactory = Callable[..., Settings]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A PostgreSQL server for the session; skipped only outside CI when none is given or found."""
    with contextlib.ExitStack() as stack:
        try:
            dsn = stack.enter_context(pg_server.session_dsn())
        except pg_server.PostgresUnavailable as error:
            if os.environ.get("CI") == "true" or os.environ.get(pg_server.DSN_VARIABLE):
                pytest.fail(f"PostgreSQL is required in CI or when a DSN is given: {error}", pytrace=False)
            pytest.skip(f"no PostgreSQL server: {error}")
        yield dsn


@contextlib.contextmanager
def fresh_schema(dsn: str) -> Iterator[str]:
    """An empty schema of its own, dropped with everything in it afterwards."""
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def load_settings(**fields: object) -> Settings:
    """Settings from the given fields only: stray ZHANYOU_* variables must not leak in."""
    return Settings.load(
        **{
            "cipher_key": None,
            "id_secret": None,
            "master_key": None,
            "previous_master_key": None,
            "compress": False,
            "signing_key": None,
            **fields,
        }
    )


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """An empty event store: a SQLite file, or a PostgreSQL schema of its own."""
    erasures = tmp_path / "erasures.jsonl"
    if request.param == "sqlite":
        yield load_settings(database_url=f"sqlite:///{tmp_path / 'events.db'}", erasure_list=erasures)
        return
    dsn: str = request.getfixturevalue("pg_dsn")
    with fresh_schema(dsn) as schema:
        yield load_settings(database_url=dsn, database_schema=schema, erasure_list=erasures)


@pytest.fixture
def new_store(settings: Settings, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes further empty stores on the backend of ``settings``, with other fields as given."""
    with contextlib.ExitStack() as stack:

        def make(**fields: object) -> Settings:
            if settings.is_postgres:
                schema = stack.enter_context(fresh_schema(settings.database_url))
                erasures = tmp_path / f"erasures-{schema}.jsonl"
                return load_settings(
                    database_url=settings.database_url,
                    database_schema=schema,
                    erasure_list=erasures,
                    **fields,
                )
            path = tmp_path / f"events-{uuid.uuid4().hex}.db"
            return load_settings(database_url=f"sqlite:///{path}", **fields)

        yield make


@pytest.fixture
def service(settings: Settings) -> Iterator[CampaignService]:
    built = build_service(settings)
    yield built
    built.close()
