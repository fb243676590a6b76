"""The retention policy over HTTP: set with the campaign or later, its dry run, its boundary."""

from __future__ import annotations

from tests.api.helpers import ADMIN_HEADERS, LAUNCH, Api


def test_a_policy_set_at_launch_is_shown_with_its_due_instant_and_its_dry_run(api: Api) -> None:
    api.clock.now = LAUNCH
    launched = api.client.post(
        "/api/campaigns",
        json={"name": "战友杯 保留", "template": "hubei-2021", "retention": {"erase_after_days": 180}},
        headers=ADMIN_HEADERS,
    )
    assert launched.status_code == 201, launched.text
    campaign = launched.json()
    assert campaign["retention"] == {
        "erase_after_days": 180,
        "due": "2022-03-15T00:00:00+08:00",  # 180 days after 24:00 on 15 Sep 2021
        "carried_out_at": None,
    }
    api.campaign_id = campaign["id"]
    first, second = api.recommend(3), api.recommend(4)
    plan = api.client.get(f"/api/campaigns/{api.campaign_id}/retention", headers=api.as_("auditor"))
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert (body["state"], body["due"], body["total"]) == ("pending", "2022-03-15T00:00:00+08:00", 2)
    assert [(c["id"], c["name"]) for c in body["contestants"]] == [(first, "选**"), (second, "选**")]
    assert body["rule"].startswith("保留期满：颁奖典礼结束后 180 天删除个人信息")
    staff = api.client.get(f"/api/campaigns/{api.campaign_id}/retention", headers=api.as_("city_staff"))
    assert staff.status_code == 403
    pii = api.client.get(f"/api/contestants/{first}/pii", headers=ADMIN_HEADERS).json()
    assert pii["name"] == "选手3"  # the dry run erased nobody
    schedule = api.client.get(f"/api/campaigns/{api.campaign_id}/schedule", headers=ADMIN_HEADERS).json()
    assert schedule["retention"] == {
        "instant": "2022-03-15T00:00:00+08:00",
        "erase_after_days": 180,
        "state": "pending",
        "actual": None,
        "erased": None,
    }


def test_organisers_amend_the_policy_with_a_reason(api: Api) -> None:
    path = f"/api/campaigns/{api.campaign_id}/retention"
    plan = api.client.get(path, headers=ADMIN_HEADERS).json()
    assert (plan["state"], plan["due"], plan["contestants"]) == ("none", None, [])
    refused = api.client.post(path, json={"erase_after_days": 30}, headers=ADMIN_HEADERS)
    assert refused.status_code == 422
    staff = api.client.post(path, json={"erase_after_days": 30, "reason": "x"}, headers=api.as_("city_staff"))
    assert staff.status_code == 403
    set_ = api.client.post(
        path, json={"erase_after_days": 30, "reason": "按规定保留 30 天"}, headers=ADMIN_HEADERS
    )
    assert set_.status_code == 200, set_.text
    assert set_.json()["rule_version"] == 2
    assert set_.json()["retention"]["due"] == "2021-10-16T00:00:00+08:00"
    again = api.client.post(path, json={"erase_after_days": 30, "reason": "再次"}, headers=ADMIN_HEADERS)
    assert again.status_code == 409
    assert again.json()["rule"] == "retention_refused"
    dropped = api.client.post(
        path, json={"erase_after_days": None, "reason": "改为人工删除"}, headers=ADMIN_HEADERS
    )
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["retention"] is None
    trail = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "RetentionSet", "min_position": dropped.headers["X-Log-Position"]},
        headers=ADMIN_HEADERS,
    ).json()
    assert [e["reason"] for e in trail["entries"]] == ["按规定保留 30 天", "改为人工删除"]
