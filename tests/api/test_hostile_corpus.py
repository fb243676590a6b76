"""One corpus of hostile input against the API on both backends: no 5xx, and no view stalls.

Every value goes into every text field of the forms and decisions, the queries and the
headers a client controls; numbers and structures go where numbers and bodies go. Values
that are acceptable text (zero-width characters, emoji, formula-like or SQL-like text) are
recorded, so the views must then store them; refused ones must be a 4xx naming the field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from application.service import CampaignService
from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, REVIEWING, Api, form

TEXTS = [
    "\x00",
    "张\x00三",
    "\x01",
    "\x07\x08",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\x9b",
    "a\tb",
    "a\nb",
    "a\r\nb",
    "\u202e321",
    "\u202a\u202c",
    "\u2066x\u2069",
    "\u200b",
    "a\u200db",
    "\ufeffname",
    "\u2028",
    "\ud800",
    "\udfff",
    "\ud83d\ude00",
    "😀" * 40,
    "=cmd|' /C calc'!A0",
    "+1+1",
    "@SUM(1)",
    "'; DROP TABLE view_roster; --",
    "../../etc/passwd",
    "１３８１２３４５６７８",
    "%00",
    "\\u0000",
    "ｘ" * 2000,
    "x" * 100_000,
    "",
    " ",
]
NUMBERS = [-1, 0, 10**12 + 1, 2**63, -(2**63) - 1, 10**400, 1e308, -1e308, 1.5, "1", None, [], {}]
INSTANTS = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2021-13-01T00:00:00+08:00",
    "2021-06-10T10:00:00",
    "not a time",
    "2021-06-10T10:00:00+25:00",
    "1" * 400,
]
TEXT_FIELDS = ["group", "city", "name", "id_number", "mobile", "platform", "account", "experience", "notes"]


def _post(client: TestClient, url: str, body: Any, headers: dict[str, str] | None = None) -> int:
    """JSON with escapes (lone surrogates travel as typed); the answer's status."""
    answer = client.post(
        url, content=json.dumps(body), headers={**(headers or {}), "content-type": "application/json"}
    )
    assert answer.status_code < 500, (url, repr(body)[:200], answer.text[:300])
    status: int = answer.status_code
    return status


def _get(client: TestClient, url: str, params: dict[str, Any], headers: dict[str, Any]) -> int:
    """Query values percent-encoded from their bytes (a URL holds some thousands of characters)."""
    query = "&".join(
        f"{key}={quote(str(value)[:4000].encode('utf-8', 'surrogatepass'), safe='')}"
        for key, value in params.items()
    )
    answer = client.get(f"{url}?{query}" if query else url, headers=headers)
    assert answer.status_code < 500, (url, repr(params)[:200], answer.text[:300])
    status: int = answer.status_code
    return status


def _raw(client: TestClient, url: str, content: bytes, headers: dict[str, str] | None = None) -> int:
    answer = client.post(
        url, content=content, headers={**(headers or {}), "content-type": "application/json"}
    )
    assert answer.status_code < 500, (url, content[:80], answer.text[:300])
    assert answer.status_code >= 400
    status: int = answer.status_code
    return status


def test_the_hostile_corpus_meets_no_5xx_and_every_view_reaches_the_log_head(api: Api) -> None:
    client, cid = api.client, api.campaign_id
    api.clock.now = RECOMMENDING
    assert (
        _post(
            client, f"/api/campaigns/{cid}/phases/self_registration/open", {"reason": "开通"}, ADMIN_HEADERS
        )
        == 200
    )
    created: list[str] = []
    seq = 100
    for field in TEXT_FIELDS:
        for text in TEXTS:
            seq += 1
            body = form(seq, **{field: text})
            answer = client.post(
                f"/api/campaigns/{cid}/contestants",
                content=json.dumps(body),
                headers={**ADMIN_HEADERS, "content-type": "application/json"},
            )
            assert answer.status_code < 500, (field, repr(text)[:40], answer.text[:300])
            if answer.status_code == 201:
                created.append(answer.json()["id"])
            seq += 1
            _post(client, f"/api/campaigns/{cid}/registrations", {**form(seq, group="veteran"), field: text})
    for extra in ("unit", "contact", "reason", "evidence"):
        for text in TEXTS:
            seq += 1
            _post(client, f"/api/campaigns/{cid}/contestants", form(seq, **{extra: text}), ADMIN_HEADERS)
    for number in NUMBERS:
        seq += 1
        _post(client, f"/api/campaigns/{cid}/contestants", form(seq, followers=number), ADMIN_HEADERS)
    assert created, "some hostile-looking but acceptable text must have been recorded"

    api.clock.now = REVIEWING
    for text in TEXTS:
        target = created[len(text) % len(created)]
        _post(client, f"/api/contestants/{target}/reject", {"reason": text, "evidence": text}, ADMIN_HEADERS)
        _post(client, f"/api/campaigns/{cid}/timeline", {"timeline": {}, "reason": text}, ADMIN_HEADERS)
        _post(client, "/api/users", {"username": text, "role": "judge"}, ADMIN_HEADERS)
        _post(client, "/api/campaigns", {"name": text, "template": "hubei-2021"}, ADMIN_HEADERS)
        for path, key in (
            ("contestants", "q"),
            ("contestants", "city"),
            ("audit", "actor"),
            ("audit", "city"),
        ):
            _get(client, f"/api/campaigns/{cid}/{path}", {key: text}, ADMIN_HEADERS)
        _get(client, f"/api/campaigns/{cid}/audit", {"type": text}, ADMIN_HEADERS)
        _get(
            client,
            f"/api/contestants/{target}",
            {},
            {"Authorization": f"Bearer {text[:100]}".encode("utf-8", "surrogatepass")},
        )
    for instant in INSTANTS:
        _get(client, f"/api/contestants/{created[0]}", {"as_of": instant}, ADMIN_HEADERS)
        _get(client, f"/api/campaigns/{cid}/audit", {"from": instant, "to": instant}, ADMIN_HEADERS)
        _post(
            client,
            "/api/campaigns",
            {"name": "t", "timeline": {"contest": {"opens": instant}}},
            ADMIN_HEADERS,
        )
        _post(
            client,
            "/api/campaigns",
            {"name": "s", "template": "hubei-2021", "start": instant[:10]},
            ADMIN_HEADERS,
        )
    for number in NUMBERS:
        _get(
            client,
            f"/api/campaigns/{cid}/contestants",
            {"page": number, "min_position": number},
            ADMIN_HEADERS,
        )
        scores = {"short_video": number, "account_operation": number, "livestream_selling": number}
        _post(client, f"/api/contestants/{created[0]}/results", {"scores": scores}, ADMIN_HEADERS)

    url = f"/api/campaigns/{cid}/contestants"
    _raw(client, url, b"[" * 100_000 + b"]" * 100_000, ADMIN_HEADERS)
    _raw(client, url, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, ADMIN_HEADERS)
    unknown = "{" + ",".join(f'"k{i}":0' for i in range(300_000)) + "}"
    _raw(client, url, unknown.encode(), ADMIN_HEADERS)
    _raw(client, f"/api/campaigns/{cid}/registrations", unknown.encode())
    _raw(client, url, b"\xff\xfe\x00garbage", ADMIN_HEADERS)

    service: CampaignService = client.app.state.service  # type: ignore[attr-defined]
    head = service.last_notification_id()
    client.app.state.node.projection_runner.wait(head, timeout=120)  # type: ignore[attr-defined]
    for export in ("roster.xlsx", "audit?format=xlsx", "audit?format=csv", "teams", "quotas", "funnel"):
        answer = client.get(f"/api/campaigns/{cid}/{export}", headers=ADMIN_HEADERS)
        assert answer.status_code == 200, (export, answer.text[:300])
    assert client.get("/readyz").status_code == 200
