"""PostgreSQL: the event store's pooled connections are checked without a round trip.

A connection whose server went away is never handed out to a command; one that dies
without a word fails its write before the COMMIT is sent, and the write is made once, on
another connection. A refused insert, and a read of a data key, leave the connection's
prepared statements in place.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.errors import DuplicatePerson
from tests.conftest import StoreFactory
from tests.integration.helpers import launch, recommend


@pytest.fixture
def small_pool(settings: Settings, new_store: StoreFactory) -> Iterator[CampaignService]:
    if not settings.is_postgres:
        pytest.skip("pooled connections: PostgreSQL only")
    service = build_service(new_store(pool_size=1))
    yield service
    service.close()


def _datastore(service: CampaignService) -> PostgresDatastore:
    datastore = getattr(service.recorder, "datastore", None)
    assert isinstance(datastore, PostgresDatastore)
    return datastore


def _idle_connections(service: CampaignService) -> list[psycopg.Connection[Any]]:
    """Every idle pooled connection (back in the pool, idle again)."""
    pool = _datastore(service).pool
    held = [pool.getconn() for _ in range(pool.get_stats()["pool_available"])]
    for conn in held:
        pool.putconn(conn)
    return held


def _cut_pooled_connections(service: CampaignService) -> list[int]:
    """Every idle pooled connection cut on the client's side, as a network failure would; their pids."""
    idle = _idle_connections(service)
    for conn in idle:
        with socket.fromfd(conn.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as cut:
            cut.shutdown(socket.SHUT_RDWR)
    return [conn.info.backend_pid for conn in idle]


def _gone(dsn: str, pids: list[int]) -> None:
    """Wait until the server has ended the backends ``pids``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(100):
            found = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
            row = found.fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"backends {pids} still running")


def test_a_connection_whose_server_went_away_is_not_handed_out(
    small_pool: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(small_pool)
    recommend(small_pool, campaign_id, 1)
    pids = [conn.info.backend_pid for conn in _idle_connections(small_pool)]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
    _gone(settings.database_url, pids)

    pool = _datastore(small_pool).pool
    handed = pool.getconn(timeout=5)  # after a failed check the pool pauses about a second
    try:
        assert handed.info.backend_pid not in pids
        assert handed.execute("SELECT 1").fetchone() is not None
    finally:
        pool.putconn(handed)
    recommend(small_pool, campaign_id, 2)
    assert small_pool.places_taken(campaign_id, "cap:trainee") == 2


def test_a_write_whose_connection_died_before_its_commit_is_made_once(
    small_pool: CampaignService, settings: Settings
) -> None:
    campaign_id = launch(small_pool)
    recommend(small_pool, campaign_id, 1)  # the campaign and the pools cached: the write reads nothing
    pool = _datastore(small_pool).pool
    pool._check = None  # a connection that died without a word passes any check made without a round trip
    pids = _cut_pooled_connections(small_pool)
    _gone(settings.database_url, pids)

    contestant = recommend(small_pool, campaign_id, 2)

    assert small_pool.get_contestant(contestant).version == 1
    assert small_pool.places_taken(campaign_id, "cap:trainee") == 2
    assert small_pool.places_taken(campaign_id, "quota:武汉市:trainee") == 2


def test_refused_inserts_leave_the_prepared_statements_usable(small_pool: CampaignService) -> None:
    campaign_id = launch(small_pool)
    for seq in range(1, 7):
        recommend(small_pool, campaign_id, seq)
        with pytest.raises(DuplicatePerson):
            recommend(small_pool, campaign_id, seq)  # the insert conflicts and is rolled back
    assert small_pool.places_taken(campaign_id, "cap:trainee") == 6


def _prepared(service: CampaignService) -> set[tuple[int, str, object]]:
    """The statements prepared on each idle pooled connection: (backend, name, when prepared)."""
    found: set[tuple[int, str, object]] = set()
    for conn in _idle_connections(service):
        rows = conn.execute("SELECT name, prepare_time FROM pg_prepared_statements").fetchall()
        found |= {(conn.info.backend_pid, str(row["name"]), row["prepare_time"]) for row in rows}
    return found


def test_reading_a_data_key_keeps_the_prepared_statements(small_pool: CampaignService) -> None:
    campaign_id = launch(small_pool)
    contestant = recommend(small_pool, campaign_id, 1)
    before = _prepared(small_pool)
    assert before  # the insert's statements, planned once per connection

    small_pool.person_keys.forget_all()
    assert small_pool.get_contestant(contestant).name  # its key read from the table again

    assert before <= _prepared(small_pool)
