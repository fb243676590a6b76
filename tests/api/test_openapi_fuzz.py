"""Schemathesis against the OpenAPI document: no server error, no answer outside the schema.

The cases run on one store for the module, as a service in use: a campaign with contestants
of two cities, a user of every role. Each case is sent as one of the roles (or none), at an
instant of one of the campaign's phases, on real ids or generated ones, and an upload is a
real form, score sheet or account sheet, or a broken file. Afterwards no view is stalled.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from api.app import create_app
from api.config import ApiSettings
from application.settings import Settings
from tests.api.helpers import (
    AWARDING,
    BOOTSTRAP,
    COMPETING,
    LAUNCH,
    OTHER_CITY,
    OWN_CITY,
    PICKING,
    RECOMMENDING,
    REVIEWING,
    ROLES,
    TRAINED,
    TRAINING,
    Api,
    Clock,
    bearer,
    with_users,
)
from tests.api.test_bulk_work import xlsx
from tests.builders import id_number
from tests.conftest import load_settings
from tests.form_files import as_csv, as_xlsx, form_cells, person_row

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
WHO = (*ROLES, "bootstrap", "anonymous")
GOOD_FILES = ("附件2.xlsx", "附件2.csv", "评分表.xlsx", "培训账号.xlsx")
SCORE_HEADER = ["选手编号", "短视频制作", "个人直播账号运营", "直播带货"]
ACCOUNT_HEADER = ["身份证号", "姓名", "培训账号"]
INSTANTS = (LAUNCH, RECOMMENDING, REVIEWING, TRAINING, TRAINED, COMPETING, PICKING, AWARDING)
# The document is the app's own; no store is needed to produce it.
schema = schemathesis.openapi.from_dict(
    create_app(
        Settings.load(database_url="sqlite:///unused.db"), ApiSettings.load(bootstrap_token=BOOTSTRAP)
    ).openapi()
)


def _broken_files() -> dict[str, bytes]:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * 1_000_000)
    form = as_xlsx(form_cells([person_row(9)]))
    return {
        "truncated.xlsx": form[: len(form) // 2],
        "bomb.xlsx": zipped.getvalue(),
        "empty.csv": b"",
        "nul.csv": as_csv([["序号", "姓名"], ["1", "张\x00三"]]),
        "gb18030.csv": as_csv(form_cells([person_row(10)]), encoding="gb18030"),
        "photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    }


@dataclass
class World:
    api: Api
    contestants: list[str]
    usernames: list[str]
    uploads: dict[str, bytes] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)

    def real(self, name: str, pick: int) -> str | None:
        choices = {
            "cid": [self.api.campaign_id],
            "id": self.contestants,
            "username": self.usernames,
            "city": [OWN_CITY, OTHER_CITY, "武汉"],
        }.get(name)
        return choices[pick % len(choices)] if choices else None

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        return bearer(BOOTSTRAP) if who == "bootstrap" else self.api.as_(who)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = load_settings(
        database_url=f"sqlite:///{folder / 'events.db'}", erasure_list=folder / "erasures.jsonl"
    )
    clock = Clock()
    app = create_app(
        settings, ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=10_000), clock=clock
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        api = with_users(Api(client, clock))
        api.launch()
        people = [api.recommend(seq) for seq in range(1, 5)]
        people += [api.recommend(seq, OTHER_CITY, "veteran") for seq in range(5, 7)]
        for contestant in people[:3]:
            api.step(contestant, "verify", REVIEWING)
        uploads = {
            "附件2.xlsx": as_xlsx(form_cells([person_row(n) for n in range(20, 24)])),
            "附件2.csv": as_csv(form_cells([person_row(n) for n in range(30, 33)])),
            "评分表.xlsx": xlsx([SCORE_HEADER, *[[p, 80, 90, 70] for p in people]]),
            "培训账号.xlsx": xlsx([ACCOUNT_HEADER, *[[id_number(n), f"选手{n}", f"hb-{n}"] for n in (1, 2)]]),
            **_broken_files(),
        }
        yield World(api, people, ["admin-1", "wuhan-1", "judge-1", "no-such-user"], uploads)


def _request(case: schemathesis.Case[Any], world: World, who: str, pick: int, upload: str) -> dict[str, Any]:
    if pick % 4:  # most cases on what exists, the rest on what the generator made up
        for name in list(case.path_parameters or {}):
            real = world.real(name, pick)
            if real is not None:
                case.path_parameters[name] = real
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url="", headers=world.headers(who))
    body = kwargs.pop("data", None)
    if kwargs.pop("files", None) is not None or case.media_type == "multipart/form-data":
        kwargs["files"] = {"file": (upload, world.uploads[upload])}
        if isinstance(body, dict):
            kwargs["data"] = {k: v for k, v in body.items() if isinstance(v, str) and "\x00" not in v}
    elif body is not None:
        kwargs["content"] = body if isinstance(body, bytes | str) else None
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    # generated header values may be any text; on the wire they are bytes
    kwargs["headers"] = {name: str(value).encode() for name, value in (kwargs.get("headers") or {}).items()}
    return kwargs


@schema.parametrize()
@schema.given(
    who=st.sampled_from(WHO),
    at=st.sampled_from(INSTANTS),
    pick=st.integers(min_value=0, max_value=63),
    upload=st.sampled_from([*sorted(_broken_files()), *GOOD_FILES]),
)
@hypothesis.settings(
    max_examples=50,
    phases=[Phase.generate],  # the schema's examples take no role, instant or upload
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_the_api_keeps_its_openapi_promises(
    case: schemathesis.Case[Any], world: World, who: str, at: Any, pick: int, upload: str
) -> None:
    world.api.clock.now = at
    response = world.api.client.request(**_request(case, world, who, pick, upload))
    world.statuses[response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def test_after_the_fuzz_every_view_is_caught_up_and_the_service_ready(world: World) -> None:
    ready = world.api.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    position = ready.json()["last_notification_id"]
    roster = world.api.client.get(
        f"/api/campaigns/{world.api.campaign_id}/contestants",
        params={"min_position": position},
        headers=bearer(BOOTSTRAP),
    )
    assert roster.status_code == 200, roster.text
    assert int(roster.headers["X-View-Lag"]) == 0
    requests = sum(world.statuses.values())
    print(f"\nfuzz: {requests} requests, statuses {dict(sorted(world.statuses.items()))}")
    assert requests == 0 or not any(status >= 500 for status in world.statuses)
