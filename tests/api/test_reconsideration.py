"""A way back: a rejection reconsidered during review; who is unreviewed when training opens."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import ADMIN_HEADERS, REVIEWING, TRAINING, Api


def post(api: Api, path: str, body: dict[str, Any], who: str = "admin") -> Any:
    return api.client.post(path, json=body, headers=api.as_(who))


def _quota_taken(api: Api, position: int) -> int:
    quotas = api.client.get(
        f"/api/campaigns/{api.campaign_id}/quotas", params={"min_position": position}, headers=ADMIN_HEADERS
    ).json()["quotas"]
    taken: int = next(q["recommended"] for q in quotas if (q["city"], q["group"]) == ("武汉市", "trainee"))
    return taken


def test_a_rejected_person_is_reconsidered_with_a_reason_and_retakes_the_place(api: Api) -> None:
    contestant = api.recommend(1)
    api.step(contestant, "reject", REVIEWING, {"reason": "缺退役证"})

    without_reason = post(api, f"/api/contestants/{contestant}/reconsider", {"reason": " "})
    by_staff = post(api, f"/api/contestants/{contestant}/reconsider", {"reason": "补交"}, who="city_staff")
    back = post(api, f"/api/contestants/{contestant}/reconsider", {"reason": "已补交退役证"})

    assert (without_reason.status_code, without_reason.json()["rule"]) == (422, "reason_required")
    assert (by_staff.status_code, by_staff.json()["rule"]) == (403, "not_permitted")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "nominated"
    assert _quota_taken(api, int(back.headers["X-Log-Position"])) == 1
    api.step(contestant, "verify", REVIEWING)
    history = api.client.get(f"/api/contestants/{contestant}/history", headers=ADMIN_HEADERS).json()
    assert [(e["type"], e["reason"]) for e in history[-3:]] == [
        ("Rejected", "缺退役证"),
        ("Reconsidered", "已补交退役证"),
        ("Verified", None),
    ]


def test_reconsideration_ends_with_review(api: Api) -> None:
    contestant = api.recommend(1)
    api.step(contestant, "reject", REVIEWING, {"reason": "缺材料"})
    api.clock.now = TRAINING
    late = post(api, f"/api/contestants/{contestant}/reconsider", {"reason": "补交"})
    assert (late.status_code, late.json()["rule"]) == (409, "phase_closed")


def test_the_unreviewed_are_listed_and_rejected_in_bulk_when_training_opens(api: Api) -> None:
    ids = [api.recommend(seq) for seq in (1, 2, 3)]
    api.step(ids[0], "verify", REVIEWING)
    api.clock.now = TRAINING
    position = api.client.get("/readyz").json()["last_notification_id"]

    listed = api.client.get(
        f"/api/campaigns/{api.campaign_id}/unreviewed",
        params={"min_position": position},
        headers=ADMIN_HEADERS,
    )
    assert listed.status_code == 200, listed.text
    unreviewed = [c["id"] for c in listed.json()["contestants"]]
    assert sorted(unreviewed) == sorted(ids[1:])
    assert (
        api.client.get(
            f"/api/campaigns/{api.campaign_id}/unreviewed", headers=api.as_("city_staff")
        ).status_code
        == 403
    )

    rejected = api.client.post(
        f"/api/campaigns/{api.campaign_id}/bulk/reject",
        json={"contestants": unreviewed, "reason": "培训开始前未完成审核材料"},
        headers=ADMIN_HEADERS,
    )
    assert rejected.json()["counts"] == {"done": 2, "refused": 0}
