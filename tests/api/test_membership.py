"""Answers that reveal nothing: who is registered is not told by registration or by a 403."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.helpers import ADMIN_HEADERS, REVIEWING, Api, form
from tests.builders import id_number


def _register(api: Api, seq: int, **extra: Any) -> Any:
    return api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(seq, group="veteran", **extra)
    )


def test_a_registration_is_answered_alike_whether_the_number_or_the_handle_is_taken(api: Api) -> None:
    api.open_self_registration()
    first = _register(api, 5)
    same_person = _register(api, 5, account="another-handle")  # ID number registered
    same_handle = _register(api, 6, account="streamer5")  # ID number free, handle claimed
    both = _register(api, 5)  # both taken
    fresh = _register(api, 7)
    answers = [first, same_person, same_handle, both, fresh]
    assert {a.status_code for a in answers} == {202}, [a.text for a in answers]
    assert {tuple(sorted(a.json())) for a in answers} == {("message", "receipt")}
    assert {a.json()["message"] for a in answers} == {"已收到报名，审核后通知结果"}
    receipts = [uuid.UUID(a.json()["receipt"]) for a in answers]
    assert len(set(receipts)) == len(receipts)
    # random-looking UUIDv4s all: no version digit tells a taken one from a repeat
    assert {(r.version, r.variant) for r in receipts} == {(4, uuid.RFC_4122)}
    assert len({_header_names(a) for a in answers}) == 1, [a.headers for a in answers]
    assert all("x-log-position" not in a.headers for a in answers)  # it would count the events made
    for answer in answers:
        assert "streamer5" not in answer.text
        assert id_number(5)[-4:] not in answer.json()["message"]
        assert id_number(5) not in answer.text

    # the repeats are before the organisers, on the campaign's audit trail
    position = api.log_head()
    trail = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "RegistrationDuplicated", "min_position": position},
        headers=api.as_("auditor"),
    )
    assert trail.status_code == 200, trail.text
    reasons = [e["reason"] for e in trail.json()["entries"]]
    assert len(reasons) == 3
    masked = id_number(5)[:6] + "*" * 8 + id_number(5)[-4:]
    assert sum("身份证号已报名" in r and masked in r for r in reasons) == 2
    assert sum("抖音账号已被其他选手使用" in r and "streamer5" in r for r in reasons) == 1
    assert not any("duplicate" in r for r in reasons)  # the rule's code is no clerk's reading
    assert {e["city"] for e in trail.json()["entries"]} == {"武汉市"}
    roster = api.client.get(
        f"/api/campaigns/{api.campaign_id}/contestants",
        params={"min_position": position},
        headers=ADMIN_HEADERS,
    )
    assert roster.json()["total"] == 2


def _header_names(answer: Any) -> frozenset[str]:
    return frozenset(name for name in answer.headers if name not in ("date", "content-length"))


def _status(api: Api, receipt: str, seq: int) -> Any:
    return api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations/status",
        json={"receipt": receipt, "id_number": id_number(seq)},
    )


def test_a_receipt_is_not_the_contestant_id_nor_derived_from_it_without_the_key(api: Api) -> None:
    api.open_self_registration()
    receipt = _register(api, 5).json()["receipt"]
    service = api.client.app.state.service  # type: ignore[attr-defined]
    contestant = service.find_contestant(uuid.UUID(api.campaign_id), id_number(5))
    assert receipt != str(contestant.id)
    assert receipt != str(uuid.uuid5(uuid.NAMESPACE_OID, f"zhanyou receipt:{contestant.id}"))
    assert str(contestant.id) not in _status(api, receipt, 5).text


def test_a_receipt_given_before_receipts_were_keyed_still_shows_the_status(api: Api) -> None:
    api.open_self_registration()
    _register(api, 5)
    service = api.client.app.state.service  # type: ignore[attr-defined]
    contestant = service.find_contestant(uuid.UUID(api.campaign_id), id_number(5))
    unkeyed = str(uuid.uuid5(uuid.NAMESPACE_OID, f"zhanyou receipt:{contestant.id}"))

    answer = _status(api, unkeyed, 5)

    assert (answer.status_code, answer.json()["status"]) == (200, "nominated")
    assert _status(api, unkeyed, 6).status_code == 404  # with another number it shows nothing


def test_a_repeats_receipt_shows_a_registration_just_received_not_the_status_repeated(api: Api) -> None:
    api.open_self_registration()
    first = _register(api, 5).json()["receipt"]
    repeat = _register(api, 5, account="another-handle").json()["receipt"]
    handle_taken = _register(api, 6, account="streamer5").json()["receipt"]  # a number never taken
    service = api.client.app.state.service  # type: ignore[attr-defined]
    contestant = service.find_contestant(uuid.UUID(api.campaign_id), id_number(5))
    api.step(str(contestant.id), "verify", REVIEWING)

    own = _status(api, first, 5)
    assert (own.status_code, own.json()["status"]) == (200, "verified")  # the person's real status
    for receipt, seq in ((repeat, 5), (handle_taken, 6)):
        answer = _status(api, receipt, seq)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"status", "changed_at"}
        assert answer.json()["status"] == "nominated"
        assert "x-log-position" not in answer.headers
    # a receipt shows nothing with another number, a repeat's no more than a taken one's
    for receipt, seq in ((repeat, 6), (handle_taken, 5), (first, 6), (str(contestant.id), 5)):
        assert _status(api, receipt, seq).status_code == 404


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
