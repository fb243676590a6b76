"""Text at the boundary: refused when typed, harmless when already stored, masked when shown."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

import domain.decision
import domain.values
from api import schemas
from api.app import create_app
from api.config import ApiSettings
from application import decisions
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from node import Roles
from projections import open_views
from projections.runner import ProjectionRunner
from tests.api.helpers import ADMIN_HEADERS, BOOTSTRAP, RECOMMENDING, REVIEWING, Api, Clock, form
from tests.builders import ADMIN, id_number, mobile
from tests.form_files import as_csv, form_cells, person_row
from tests.projections.test_stall import BuggyRoster

NUL, SOH = "\x00", "\x01"


def post_json(client: TestClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    """The body as JSON with escapes, so lone surrogates reach the server as typed."""
    return client.post(url, content=json.dumps(body), headers={**headers, "content-type": "application/json"})


def _request_models() -> list[type[BaseModel]]:
    found = [v for v in vars(schemas).values() if isinstance(v, type) and issubclass(v, schemas._Request)]
    return [m for m in found if m is not schemas._Request]


def _string_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, f in model.model_fields.items() if "str" in str(f.annotation)]


@pytest.mark.parametrize("model", _request_models(), ids=lambda m: m.__name__)
def test_every_string_field_of_every_request_model_refuses_control_characters(model: type[BaseModel]) -> None:
    fields = _string_fields(model)
    for name in fields:
        for bad in (NUL, SOH, "\x85", "\u202e", "\ud800"):
            try:
                model.model_validate({name: f"a{bad}b"})
            except Exception as error:
                errors = error.errors()  # type: ignore[attr-defined]
            locations = [e["loc"][0] for e in errors if e["type"] != "missing"]
            assert name in locations, (model.__name__, name, repr(bad))


def test_multi_line_fields_take_tab_and_newline_one_line_fields_do_not() -> None:
    schemas.Decide.model_validate({"reason": "第一行\n\t第二行", "evidence": "a\r\nb"})
    with pytest.raises(ValueError, match="award"):
        schemas.Award.model_validate({"award": "一等奖\n"})


def test_a_nul_in_the_public_form_and_in_a_query_is_a_422_naming_the_field(api: Api) -> None:
    api.clock.now = RECOMMENDING
    opened = api.client.post(
        f"/api/campaigns/{api.campaign_id}/phases/self_registration/open",
        json={"reason": "开通"},
        headers=ADMIN_HEADERS,
    )
    assert opened.status_code == 200, opened.text
    for field, value in (("name", f"张{NUL}三"), ("notes", f"x{SOH}"), ("account", "a\u202eb")):
        answer = post_json(
            api.client,
            f"/api/campaigns/{api.campaign_id}/registrations",
            form(1, group="veteran", **{field: value}),
            {},
        )
        assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, field), answer.text
    for path, params in (("contestants", {"q": f"张{NUL}"}), ("audit", {"actor": f"a{NUL}"})):
        answer = api.client.get(
            f"/api/campaigns/{api.campaign_id}/{path}", params=params, headers=ADMIN_HEADERS
        )
        expected = "actor" if path == "audit" else "q"
        assert (answer.status_code, answer.json()["errors"][0]["field"]) == (422, expected), answer.text


def test_an_imported_row_with_a_control_character_is_refused_and_the_rest_imported(api: Api) -> None:
    bad = person_row(2)
    bad[2] = f"学员{NUL}2"
    content = as_csv(form_cells([person_row(1), bad]))
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/imports", files={"file": ("f.csv", content)}, headers=ADMIN_HEADERS
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == {"created": 1, "unchanged": 0, "refused": 1}
    refused = [r for r in answer.json()["rows"] if r["outcome"] == "refused"]
    assert refused[0]["rule"] == "invalid_value"
    assert "name" in refused[0]["detail"]


def _service(api: Api) -> CampaignService:
    service: CampaignService = api.client.app.state.service  # type: ignore[attr-defined]
    return service


def test_text_stored_before_the_rule_never_stops_a_view_or_an_export(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events written by an earlier release may hold a NUL or a control character."""
    monkeypatch.setattr(domain.values, "check_text", lambda *a, **k: None)
    monkeypatch.setattr(domain.decision, "check_text", lambda *a, **k: None)
    service = _service(api)
    person = domain.values.Person.parse(
        name=f"张{NUL}三{SOH}",
        id_number=id_number(5),
        mobile=mobile(5),
        city="武汉市",
        group="trainee",
        platform="douyin",
        account="old_account",
        followers=1,
        notes=f"备注{NUL}",
    )
    contestant = service.nominate(
        UUID(api.campaign_id),
        person,
        domain.values.Channel.RECOMMENDED,
        DecisionContext(actor=ADMIN, at=RECOMMENDING),
    )
    service.decide(
        contestant.id,
        decisions.REJECT,
        DecisionContext(actor=ADMIN, at=REVIEWING, reason=f"不符合{NUL}条件{SOH}"),
    )
    monkeypatch.undo()
    head = service.last_notification_id()

    api.client.app.state.node.projection_runner.wait(head, timeout=30)  # type: ignore[attr-defined]

    roster = api.client.get(f"/api/campaigns/{api.campaign_id}/contestants", headers=ADMIN_HEADERS)
    assert roster.status_code == 200
    assert roster.json()["contestants"][0]["name"] == "张\ufffd三\ufffd"
    for url in ("roster.xlsx", "audit?format=xlsx", "audit?format=csv", "audit", "teams"):
        answer = api.client.get(f"/api/campaigns/{api.campaign_id}/{url}", headers=ADMIN_HEADERS)
        assert answer.status_code == 200, (url, answer.text[:200])
    assert api.client.get("/readyz").status_code == 200


def test_a_view_that_cannot_store_an_event_makes_the_service_not_ready(settings: Settings) -> None:
    app = create_app(
        settings, ApiSettings.load(bootstrap_token=BOOTSTRAP), roles=Roles(scheduler=False, projections=False)
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, Clock())
        service = _service(api)
        launched = client.post(
            "/api/campaigns", json={"name": "x", "template": "hubei-2021"}, headers=ADMIN_HEADERS
        )
        assert launched.status_code == 201, launched.text
        contestant = domain.values.Person.parse(
            **{k: v for k, v in form(1).items() if k != "followers"}, followers=1
        )
        first = service.nominate(
            UUID(launched.json()["id"]),
            contestant,
            domain.values.Channel.RECOMMENDED,
            DecisionContext(actor=ADMIN, at=RECOMMENDING),
        )
        service.decide(first.id, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
        views = open_views(settings)
        buggy = BuggyRoster(views.db)
        try:
            runner = ProjectionRunner(service, [buggy], stalls=views.stalls, retry_seconds=0.0)
            with pytest.raises(Exception, match="roster"):
                runner.catch_up(timeout=30)

            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()["rule"]) == (503, "view_stalled")
            assert "roster" in ready.json()["detail"]
            metrics = client.get("/metrics", headers=ADMIN_HEADERS).text
            assert 'zhanyou_view_stalled{view="roster"} 1' in metrics

            buggy.broken = False
            runner.catch_up(timeout=30)
            assert client.get("/readyz").status_code == 200
            assert (
                'zhanyou_view_stalled{view="roster"} 0' in client.get("/metrics", headers=ADMIN_HEADERS).text
            )
        finally:
            views.close()


def test_numbers_typed_into_free_text_are_masked_everywhere_but_pii(api: Api) -> None:
    api.clock.now = RECOMMENDING
    full_mobile, full_id = "13912345678", id_number(9)
    body = form(
        8, notes=f"本人手机 {full_mobile}", contact=f"王科长 {full_mobile}", reason=f"身份证 {full_id}"
    )
    created = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=body, headers=ADMIN_HEADERS
    )
    assert created.status_code == 201, created.text
    contestant_id = created.json()["id"]
    api.step(contestant_id, "verify", REVIEWING, {"reason": f"电话核实 {full_mobile}", "evidence": full_id})
    head = _service(api).last_notification_id()
    api.client.app.state.node.projection_runner.wait(head, timeout=30)  # type: ignore[attr-defined]

    answers = [
        api.client.get(f"/api/contestants/{contestant_id}", headers=api.as_("judge")),
        api.client.get(f"/api/contestants/{contestant_id}/history", headers=api.as_("auditor")),
        api.client.get(f"/api/campaigns/{api.campaign_id}/audit", headers=api.as_("auditor")),
        api.client.get(f"/api/campaigns/{api.campaign_id}/audit?format=csv", headers=api.as_("auditor")),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert full_mobile not in answer.text
        assert full_id not in answer.text
        assert "139****5678" in answer.text
    assert "本人手机 139****5678" in answers[0].text
    assert id_number(9)[:6] + "********" in answers[2].text
    pii = api.client.get(f"/api/contestants/{contestant_id}/pii", headers=ADMIN_HEADERS)
    assert pii.status_code == 200
    assert pii.headers["cache-control"] == "no-store"
