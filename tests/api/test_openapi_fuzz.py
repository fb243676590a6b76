"""Schemathesis against the OpenAPI document: no server error, no answer outside the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from tests.api.helpers import BOOTSTRAP, Clock

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]

# The document is the app's own; no store is needed to produce it.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings.load(database_url="sqlite:///unused.db"), ApiSettings.load(bootstrap_token=BOOTSTRAP)
    ).openapi()
)


@pytest.fixture
def fuzz_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(
        settings, ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=10_000), clock=Clock()
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@schema.parametrize()
@hypothesis.settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_keeps_its_openapi_promises(case: schemathesis.Case[Any], fuzz_client: TestClient) -> None:
    kwargs: dict[str, Any] = case.as_transport_kwargs(
        base_url="", headers={"Authorization": f"Bearer {BOOTSTRAP}"}
    )
    body = kwargs.pop("data", None)
    if body is not None:
        kwargs["content"] = body if isinstance(body, bytes | str) else None
    kwargs.pop("files", None)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    # generated header values may be any text; on the wire they are bytes
    kwargs["headers"] = {name: str(value).encode() for name, value in (kwargs.get("headers") or {}).items()}
    response = fuzz_client.request(**kwargs)
    case.validate_response(response, checks=CHECKS)
