"""Reads of personal data, refused ones too, and user management, as auditors see them."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import ADMIN_HEADERS, OWN_CITY, REVIEWING, Api

READS = ["PersonalDataRead", "PersonalDataReadRefused"]


def head(api: Api) -> int:
    return int(api.client.get("/readyz").json()["last_notification_id"])


def trail(api: Api, who: str, **params: Any) -> Any:
    return api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"min_position": head(api), **params},
        headers=api.as_(who),
    )


def test_reads_of_personal_data_granted_or_refused_are_on_the_audit_trail(api: Api) -> None:
    contestant = api.recommend(7)
    pii = f"/api/contestants/{contestant}/pii"
    api.clock.now = REVIEWING
    asked = {who: api.client.get(pii, headers=api.as_(who)).status_code for who in (
        "city_staff", "auditor", "other_city_staff", "leader", "judge"
    )}  # fmt: skip
    assert asked == {"city_staff": 200, "auditor": 403, "other_city_staff": 404, "leader": 404, "judge": 403}
    unknown = api.client.get(
        "/api/contestants/00000000-0000-0000-0000-000000000000/pii", headers=api.as_("leader")
    )
    assert unknown.status_code == 404

    answer = trail(api, "auditor", type=READS)
    assert answer.status_code == 200, answer.text
    seen = [
        (e["event_type"], e["actor_user"], e["actor_role"], e["subject_id"], e["fields"], e["city"])
        for e in answer.json()["entries"]
    ]
    fields = ["id_number", "mobile"]
    assert seen == [
        ("PersonalDataRead", "wuhan-1", "city_staff", contestant, fields, OWN_CITY),
        ("PersonalDataReadRefused", "auditor-1", "auditor", contestant, fields, OWN_CITY),
        ("PersonalDataReadRefused", "huangshi-1", "city_staff", contestant, fields, OWN_CITY),
        ("PersonalDataReadRefused", "leader-1", "leader", contestant, fields, OWN_CITY),
        ("PersonalDataReadRefused", "judge-1", "judge", contestant, fields, OWN_CITY),
    ]
    assert all(e["at"] == "2021-06-20T15:00:00+08:00" for e in answer.json()["entries"])
    only_refused = trail(api, "admin", type="PersonalDataReadRefused", actor="leader-1").json()["entries"]
    assert [e["actor_user"] for e in only_refused] == ["leader-1"]
    everything = {e["event_type"] for e in trail(api, "auditor").json()["entries"]}
    assert everything >= {"Nominated", *READS}

    exported = trail(api, "auditor", type=READS, format="csv")
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert "查看个人信息（被拒绝）" in text
    assert "选手7" in text

    listed = api.client.get(f"/api/contestants/{contestant}/pii-reads", headers=api.as_("auditor")).json()
    assert [(r["user"], r["refused"], r["rule"]) for r in listed] == [
        ("wuhan-1", False, None),
        ("auditor-1", True, "not_permitted"),
        ("huangshi-1", True, "not_permitted"),
        ("leader-1", True, "not_permitted"),
        ("judge-1", True, "not_permitted"),
    ]
    assert all(r["at"] == "2021-06-20T15:00:00+08:00" for r in listed)  # Beijing time, as everywhere


def test_the_history_shows_the_reads_to_organisers_and_auditors(api: Api) -> None:
    contestant = api.recommend(8)
    api.clock.now = REVIEWING.replace(hour=9)
    assert (
        api.client.get(f"/api/contestants/{contestant}/pii", headers=api.as_("city_staff")).status_code == 200
    )
    api.step(contestant, "verify", REVIEWING)
    api.clock.now = REVIEWING.replace(hour=16)
    assert api.client.get(f"/api/contestants/{contestant}/pii", headers=api.as_("auditor")).status_code == 403
    path = f"/api/contestants/{contestant}/history"

    for who in ("auditor", "admin"):
        entries = api.client.get(path, headers=api.as_(who)).json()
        assert [(e["type"], e["version"], e["user"], e["fields"]) for e in entries] == [
            ("Nominated", 1, "bootstrap-admin", None),
            ("PersonalDataRead", 1, "wuhan-1", ["id_number", "mobile"]),
            ("Verified", 2, "bootstrap-admin", None),
            ("PersonalDataReadRefused", 2, "auditor-1", ["id_number", "mobile"]),
        ]
        assert entries[1]["changes"] == {}
    staff = api.client.get(path, headers=api.as_("city_staff")).json()
    assert [e["type"] for e in staff] == ["Nominated", "Verified"]  # the audit trail is not theirs
    before_review = api.client.get(
        path, params={"as_of": "2021-06-20T14:59:59+08:00"}, headers=api.as_("auditor")
    ).json()
    assert [e["type"] for e in before_review] == ["Nominated", "PersonalDataRead"]


def test_user_management_is_visible_to_auditors(api: Api) -> None:
    api.clock.now = REVIEWING
    disabled = api.client.post("/api/users/judge-1/disable", json={"reason": "离职"}, headers=ADMIN_HEADERS)
    assert disabled.status_code == 200, disabled.text
    answer = api.client.get(
        "/api/users/audit", params={"min_position": head(api)}, headers=api.as_("auditor")
    )
    assert answer.status_code == 200, answer.text
    acts = [(e["event_type"], e["aggregate_id"], e["actor_user"]) for e in answer.json()["entries"]]
    created = [act for act in acts if act[0] == "UserCreated"]
    assert len(created) == 6  # one user per role
    assert acts[-1][0] == "UserDisabled"
    assert acts[-1][2] == "bootstrap-admin"
    assert "离职" in answer.json()["entries"][-1]["reason"]
    for who, status in (("city_staff", 403), ("leader", 403), ("judge", 401)):  # the judge is disabled
        assert api.client.get("/api/users/audit", headers=api.as_(who)).status_code == status
