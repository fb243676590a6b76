"""Running the timeline by hand: phases close their channels, order is kept, attribution is true."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form
from tests.builders import shanghai


def _post(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/api/campaigns/{api.campaign_id}{path}", json=body, headers=ADMIN_HEADERS)


def test_closing_registration_early_closes_its_channels(api: Api) -> None:
    api.clock.now = RECOMMENDING
    assert _post(api, "/phases/self_registration/open", {"reason": "公众号开通"}).status_code == 200
    api.clock.now = shanghai(2021, 6, 25, 12)

    closed = _post(api, "/phases/registration/close", {"reason": "报名提前结束"})

    assert closed.status_code == 200, closed.text
    timeline = closed.json()["timeline"]
    for code in ("registration", "recommendation", "self_registration"):
        assert timeline[code]["recorded"] == "closed", code
        assert timeline[code]["closes"].startswith("2021-06-25T12:00")
    late = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=form(7, group="family"))
    assert (late.status_code, late.json()["rule"]) == (409, "phase_closed")
    refused = _post(api, "/contestants", form(8))
    assert (refused.status_code, refused.json()["rule"]) == (409, "phase_closed")


def test_closing_registration_cancels_a_channel_that_never_opened(api: Api) -> None:
    api.clock.now = shanghai(2021, 6, 25, 12)
    closed = _post(api, "/phases/registration/close", {"reason": "报名提前结束"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["timeline"]["self_registration"]["opens"] is None
    # It never opened, and its time is over: closed by the dates, nothing recorded.
    assert closed.json()["timeline"]["self_registration"]["status"] == "closed"
    assert closed.json()["timeline"]["self_registration"]["recorded"] == "pending"


def test_a_channel_opens_only_while_its_phase_is_open(api: Api) -> None:
    api.clock.now = shanghai(2021, 6, 1)  # registration opens on 7 June
    refused = _post(api, "/phases/self_registration/open", {"reason": "早开"})
    assert (refused.status_code, refused.json()["rule"]) == (409, "invalid_timeline")
    assert "registration is pending" in refused.json()["detail"]


def test_the_timeline_keeps_the_notices_order(api: Api) -> None:
    api.clock.now = shanghai(2021, 5, 21)
    contest_first = _post(
        api, "/timeline", {"timeline": {"contest": {"opens": "2021-07-01T00:00+08:00"}}, "reason": "r"}
    )
    assert (contest_first.status_code, contest_first.json()["rule"]) == (409, "invalid_timeline")
    assert "contest cannot open" in contest_first.json()["detail"]
    ceremony_first = _post(
        api,
        "/timeline",
        {
            "timeline": {"ceremony": {"opens": "2021-09-01T00:00+08:00", "closes": "2021-09-02T00:00+08:00"}},
            "reason": "r",
        },
    )
    assert (ceremony_first.status_code, ceremony_first.json()["rule"]) == (409, "invalid_timeline")
    launched = api.client.post(
        "/api/campaigns",
        json={
            "name": "乱序",
            "template": "hubei-2021",
            "timeline": {"finals": {"opens": "2021-08-01T00:00+08:00"}},
        },
        headers=ADMIN_HEADERS,
    )
    assert (launched.status_code, launched.json()["rule"]) == (409, "invalid_timeline")


def test_opening_training_early_moves_the_contest_to_midnight_of_the_tenth_day(api: Api) -> None:
    api.clock.now = shanghai(2021, 7, 8, 15, 30)
    opened = _post(api, "/phases/online_training/open", {"reason": "平台提前就绪"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["timeline"]["contest"]["opens"] == "2021-07-18T00:00:00+08:00"


def test_an_opening_due_by_date_recorded_in_an_early_close_is_the_schedulers(api: Api) -> None:
    api.clock.now = shanghai(2021, 6, 20, 12)  # no scheduler ran: registration's opening is unrecorded
    closed = _post(api, "/phases/recommendation/close", {"reason": "名单已齐"})
    assert closed.status_code == 200

    audit = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "PhaseOpened", "min_position": closed.headers["X-Log-Position"]},
        headers=api.as_("auditor"),
    )
    schedule = api.client.get(f"/api/campaigns/{api.campaign_id}/schedule", headers=ADMIN_HEADERS)

    opened = audit.json()["entries"]
    assert len(opened) == 2  # registration, then recommendation inside it
    assert {(e["actor_user"], e["reason"]) for e in opened} == {("scheduler", None)}
    states = {(b["code"], b["side"]): (b["state"], b["by"]) for b in schedule.json()["boundaries"]}
    assert states[("recommendation", "opens")] == ("late", "scheduler")
    assert states[("recommendation", "closes")] == ("overridden", "organiser")


def test_if_match_guards_the_campaigns_decisions_against_the_version_its_read_gave(api: Api) -> None:
    api.clock.now = RECOMMENDING
    read = api.client.get(f"/api/campaigns/{api.campaign_id}", headers=ADMIN_HEADERS)
    seen = read.json()["version"]
    assert read.headers["ETag"] == f'"{seen}"'
    body = {"reason": "公众号开通", "evidence": "组委会纪要 第2号"}
    path = f"/api/campaigns/{api.campaign_id}/phases/self_registration/open"

    stale = api.client.post(path, json=body, headers={**ADMIN_HEADERS, "If-Match": f'"{seen - 1}"'})
    assert (stale.status_code, stale.json()["rule"]) == (412, "version_conflict")
    assert stale.json()["detail"] == (
        f"open self_registration: the campaign is at version {seen}, not {seen - 1}; reload and decide again"
    )
    opened = api.client.post(path, json=body, headers={**ADMIN_HEADERS, "If-Match": f'"{seen}"'})
    assert opened.status_code == 200, opened.text
    assert opened.json()["version"] > seen
    position = api.client.get("/readyz").json()["last_notification_id"]
    trail = api.client.get(
        f"/api/campaigns/{api.campaign_id}/audit",
        params={"type": "PhaseOpened", "min_position": position},
        headers=ADMIN_HEADERS,
    ).json()["entries"]
    by_organiser = [e for e in trail if e["actor_role"] == "admin"]
    assert [(e["aggregate_id"], e["reason"], e["evidence"]) for e in by_organiser] == [
        (api.campaign_id, "公众号开通", "组委会纪要 第2号")
    ]
