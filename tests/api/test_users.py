"""Users and tokens: never stored in the clear, listed, disabled, rotated, expiring; names unambiguous."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from application.settings import Settings
from tests.api.helpers import ADMIN_HEADERS, LAUNCH, Api, Clock, bearer
from tests.integration.test_encryption import stored_rows


def _create(client: TestClient, username: str, role: str = "judge", **extra: object) -> dict[str, object]:
    answer = client.post(
        "/api/users", json={"username": username, "role": role, **extra}, headers=ADMIN_HEADERS
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def _me(client: TestClient, token: object) -> int:
    status: int = client.get("/api/users/me", headers=bearer(str(token))).status_code
    return status


def test_a_replayed_user_creation_keeps_no_token(client: TestClient, settings: Settings) -> None:
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "new-judge"}
    body = {"username": "judge-9", "role": "judge"}
    first = client.post("/api/users", json=body, headers=headers)
    again = client.post("/api/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    token = first.json()["token"]
    assert token
    assert _me(client, token) == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == {**first.json(), "token": None}
    secret = token.split("_", 2)[2].encode()  # zy_<holder>_<secret>: the secret may hold "_" too
    assert len(secret) >= 40
    assert not any(secret in row for rows in stored_rows(settings).values() for row in rows)


def test_admins_list_disable_enable_and_rotate(client: TestClient) -> None:
    token = _create(client, "judge-1")["token"]
    staff = _create(client, "wuhan-1", "city_staff", city="武汉市")["token"]
    listed = client.get("/api/users", headers=ADMIN_HEADERS)
    assert listed.status_code == 200
    assert [(u["username"], u["role"], u["city"], u["disabled"]) for u in listed.json()] == [
        ("judge-1", "judge", None, False),
        ("wuhan-1", "city_staff", "武汉市", False),
    ]
    assert all(u["created_at"].endswith("+08:00") for u in listed.json())  # Beijing time, as everywhere
    assert client.get("/api/users", headers=bearer(str(staff))).status_code == 403
    # another role may not learn which usernames exist: 403 for known and unknown alike
    for name in ("judge-1", "nobody-here"):
        refused = client.post(f"/api/users/{name}/disable", json={}, headers=bearer(str(staff)))
        assert refused.status_code == 403, refused.text

    disabled = client.post("/api/users/judge-1/disable", json={"reason": "离岗"}, headers=ADMIN_HEADERS)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert _me(client, token) == 401  # at once
    assert client.post("/api/users/judge-1/enable", json={}, headers=ADMIN_HEADERS).status_code == 200
    assert _me(client, token) == 200

    rotated = client.post("/api/users/judge-1/token", json={"reason": "令牌外泄"}, headers=ADMIN_HEADERS)
    assert rotated.status_code == 200, rotated.text
    assert _me(client, token) == 401
    assert _me(client, rotated.json()["token"]) == 200
    missing = client.post("/api/users/nobody-here/disable", json={}, headers=ADMIN_HEADERS)
    assert missing.status_code == 404


def test_a_token_stops_at_its_expiry(client: TestClient, clock: Clock) -> None:
    clock.now = LAUNCH
    expires = (LAUNCH + timedelta(days=1)).isoformat()
    created = _create(client, "judge-2", token_expires_at=expires)
    assert created["token_expires_at"] is not None
    assert _me(client, created["token"]) == 200
    clock.now = LAUNCH + timedelta(days=1)
    assert _me(client, created["token"]) == 401
    past = client.post(
        "/api/users",
        json={"username": "judge-3", "role": "judge", "token_expires_at": LAUNCH.isoformat()},
        headers=ADMIN_HEADERS,
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "token_expires_at"


@pytest.mark.parametrize(
    "username", ["scheduler", "public", "bootstrap-admin", "Admin", "ａｄｍｉｎ", "ѕcheduler", "judgе-1"]
)
def test_reserved_and_mixed_script_names_are_refused(client: TestClient, username: str) -> None:
    answer = client.post("/api/users", json={"username": username, "role": "judge"}, headers=ADMIN_HEADERS)
    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == "reserved_username"
    assert answer.json()["errors"][0]["field"] == "username"


@pytest.mark.parametrize("look_alike", ["COP", "сор", "c0p", "c.o.p"])  # Latin case, Cyrillic, digit zero
def test_a_look_alike_of_an_existing_user_is_refused(client: TestClient, look_alike: str) -> None:
    _create(client, "cop")
    answer = client.post("/api/users", json={"username": look_alike, "role": "judge"}, headers=ADMIN_HEADERS)
    assert answer.status_code == 409, answer.text
    assert answer.json()["rule"] == "confusable_username"
    assert "'cop'" in answer.json()["detail"]


def test_every_user_management_act_is_on_the_audit_trail(api: Api) -> None:
    client = api.client
    _create(client, "judge-7")
    client.post("/api/users/judge-7/disable", json={"reason": "离岗"}, headers=ADMIN_HEADERS)
    client.post("/api/users/judge-7/enable", json={}, headers=ADMIN_HEADERS)
    rotated = client.post("/api/users/judge-7/token", json={}, headers=ADMIN_HEADERS)
    position = rotated.headers["X-Log-Position"]
    trail = client.get(f"/api/users/audit?min_position={position}", headers=api.as_("auditor"))
    assert trail.status_code == 200, trail.text
    mine = [e for e in trail.json()["entries"] if "judge-7" in (e["reason"] or "")]
    assert [(e["event_type"], e["actor_user"]) for e in mine] == [
        ("UserCreated", "bootstrap-admin"),
        ("UserDisabled", "bootstrap-admin"),
        ("UserEnabled", "bootstrap-admin"),
        ("TokenRotated", "bootstrap-admin"),
    ]
    assert client.get("/api/users/audit", headers=api.as_("judge")).status_code == 403


def _version(client: TestClient, username: str) -> int:
    listed = client.get("/api/users", headers=ADMIN_HEADERS).json()
    version: int = next(u["version"] for u in listed if u["username"] == username)
    return version


def test_if_match_guards_a_user_change_against_the_version_the_list_gave(client: TestClient) -> None:
    _create(client, "judge-4")
    seen = _version(client, "judge-4")
    assert seen == 1
    disabled = client.post(
        "/api/users/judge-4/disable", json={}, headers={**ADMIN_HEADERS, "If-Match": f'"{seen}"'}
    )
    assert (disabled.status_code, disabled.json()["version"]) == (200, 2)
    for path in ("enable", "token"):  # what the organiser saw is gone: nothing is changed
        stale = client.post(
            f"/api/users/judge-4/{path}", json={}, headers={**ADMIN_HEADERS, "If-Match": f'"{seen}"'}
        )
        assert (stale.status_code, stale.json()["rule"]) == (412, "version_conflict")
    assert stale.json()["detail"] == "rotate token: the user is at version 2, not 1; reload and decide again"
    assert _version(client, "judge-4") == 2
    enabled = client.post("/api/users/judge-4/enable", json={}, headers={**ADMIN_HEADERS, "If-Match": '"2"'})
    assert (enabled.status_code, enabled.json()["disabled"]) == (200, False)


def test_a_user_change_dated_before_the_users_last_is_refused(client: TestClient, clock: Clock) -> None:
    clock.now = LAUNCH
    _create(client, "judge-5")
    clock.now = LAUNCH - timedelta(microseconds=1)
    early = client.post("/api/users/judge-5/disable", json={}, headers=ADMIN_HEADERS)
    assert (early.status_code, early.json()["rule"]) == (409, "out_of_order")
    assert "earlier than this user's last recorded decision" in early.json()["detail"]
    assert _version(client, "judge-5") == 1
    clock.now = LAUNCH  # the same instant as the last decision is in order
    assert client.post("/api/users/judge-5/disable", json={}, headers=ADMIN_HEADERS).status_code == 200
