"""The real app over the `settings` store (SQLite and PostgreSQL), its lifespan running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from tests.api.helpers import BOOTSTRAP, Api, Clock, with_users


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    api_settings = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=1000)
    with TestClient(
        create_app(settings, api_settings, clock=clock), raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, clock: Clock) -> Api:
    """Users of every role and a campaign on the hubei-2021 timeline."""
    ready = with_users(Api(client, clock))
    ready.launch()
    return ready
