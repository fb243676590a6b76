"""Answers that reveal nothing: who is registered is not told by registration or by a 403."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.helpers import ADMIN_HEADERS, Api, form
from tests.api.test_leader_and_registration_refusals import open_self_registration
from tests.builders import id_number


def _register(api: Api, seq: int, **extra: Any) -> Any:
    return api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(seq, group="veteran", **extra)
    )


def test_a_registration_is_answered_alike_whether_the_number_or_the_handle_is_taken(api: Api) -> None:
    open_self_registration(api)
    first = _register(api, 5)
    same_person = _register(api, 5, account="another-handle")  # ID number registered
    same_handle = _register(api, 6, account="streamer5")  # ID number free, handle claimed
    both = _register(api, 5)  # both taken
    fresh = _register(api, 7)
    answers = [first, same_person, same_handle, both, fresh]
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    assert {tuple(sorted(a.json())) for a in answers} == {("message", "receipt")}
    assert {a.json()["message"] for a in answers} == {"已收到报名，审核后通知结果"}
    receipts = [a.json()["receipt"] for a in answers]
    assert len(set(receipts)) == len(receipts)
    for answer in answers:
        uuid.UUID(answer.json()["receipt"])  # a random receipt: digits in it say nothing
        assert "streamer5" not in answer.text
        assert id_number(5)[-4:] not in answer.json()["message"]
        assert id_number(5) not in answer.text

    # the repeats are before the organisers, on the campaign's audit trail
    position = fresh.headers["X-Log-Position"]
    trail = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "RegistrationDuplicated", "min_position": position},
        headers=api.as_("auditor"),
    )
    assert trail.status_code == 200, trail.text
    reasons = [e["reason"] for e in trail.json()["entries"]]
    assert len(reasons) == 3
    masked = id_number(5)[:6] + "*" * 8 + id_number(5)[-4:]
    assert sum("duplicate_person" in r and masked in r for r in reasons) == 2
    assert sum("duplicate_account" in r and "streamer5" in r for r in reasons) == 1
    assert {e["city"] for e in trail.json()["entries"]} == {"武汉市"}
    roster = api.client.get(
        f"/api/campaigns/{api.campaign_id}/contestants",
        params={"min_position": position},
        headers=ADMIN_HEADERS,
    )
    assert roster.json()["total"] == 2


def _shape(answer: Any, contestant_id: str) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body.get("rule", ""), body.get("detail", "").replace(contestant_id, "ID")


def test_roles_that_may_not_read_a_contestant_get_the_answer_of_an_unknown_id(api: Api) -> None:
    existing = api.recommend(8)
    unknown = str(uuid.uuid4())
    for role in ("leader", "other_city_staff"):
        for method, suffix, body in (
            ("GET", "", None),
            ("GET", "/history", None),
            ("GET", "/pii", None),
            ("GET", "?as_of=2021-06-01T00:00:00%2B08:00", None),
            ("POST", "/verify", {}),
            ("POST", "/withdraw", {"reason": "x"}),
        ):
            seen = [
                _shape(
                    api.client.request(
                        method, f"/api/contestants/{cid}{suffix}", json=body, headers=api.as_(role)
                    ),
                    cid,
                )
                for cid in (existing, unknown)
            ]
            assert seen[0] == seen[1], (role, suffix, seen)
            assert seen[0][0] == 404, (role, suffix, seen)
