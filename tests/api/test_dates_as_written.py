"""Dates as people write them: days as YYYY-MM-DD, 24:00 as a day's end, no Unix seconds; phase order."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form
from tests.builders import shanghai


def _post(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/api/campaigns/{api.campaign_id}{path}", json=body, headers=ADMIN_HEADERS)


def _fields(answer: Any) -> list[str]:
    return [problem["field"] for problem in answer.json()["errors"]]


def test_digits_alone_are_refused_naming_the_field_not_read_as_unix_seconds(api: Api) -> None:
    contestant_id = api.recommend(1)
    cid = api.campaign_id
    api.clock.now = shanghai(2021, 7, 1)
    asks = {
        "as_of": api.client.get(
            f"/api/contestants/{contestant_id}", params={"as_of": "20210610"}, headers=ADMIN_HEADERS
        ),
        "from": api.client.get(
            f"/api/campaigns/{cid}/audit", params={"from": "20210610"}, headers=ADMIN_HEADERS
        ),
        "to": api.client.get(
            f"/api/campaigns/{cid}/audit", params={"to": "1623254400"}, headers=ADMIN_HEADERS
        ),
        "start": api.client.post(
            "/api/campaigns",
            json={"name": "y", "template": "hubei-2021", "start": "20260524"},
            headers=ADMIN_HEADERS,
        ),
        "timeline.finals.closes": _post(
            api, "/timeline", {"timeline": {"finals": {"closes": 1631030400}}, "reason": "改期"}
        ),
    }
    for field, answer in asks.items():
        assert answer.status_code == 422, (field, answer.text)
        assert field in _fields(answer), (field, answer.text)
        assert "YYYY-MM-DD" in answer.text, (field, answer.text)


def test_24_00_is_the_next_days_00_00_as_pages_print_it(api: Api) -> None:
    api.recommend(1)
    api.recommend(2)
    api.clock.now = shanghai(2021, 6, 11)  # the third is nominated at 10 Jun 24:00
    nominated = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=form(3), headers=ADMIN_HEADERS
    )
    position = int(nominated.headers["X-Log-Position"])

    def audit(to: str) -> list[Any]:
        params: dict[str, Any] = {"to": to, "type": "Nominated", "min_position": position}
        answer = api.client.get(
            f"/api/campaigns/{api.campaign_id}/audit", params=params, headers=ADMIN_HEADERS
        )
        assert answer.status_code == 200, answer.text
        entries: list[Any] = answer.json()["entries"]
        return entries

    assert (
        len(audit("2021-06-10T24:00:00"))
        == len(audit("2021-06-11T00:00:00"))
        == len(audit("2021-06-10"))
        == 2
    )
    assert len(audit("2021-06-11T24:00+08:00")) == 3
    moved = _post(
        api, "/timeline", {"timeline": {"finals": {"closes": "2021-09-08T24:00+08:00"}}, "reason": "改期"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["timeline"]["finals"]["closes"] == "2021-09-09T00:00:00+08:00"
    for past_the_end in ("2021-06-10T24:00:00.5", "2021-06-10T24:30"):  # no instant after 24:00
        refused = api.client.get(
            f"/api/campaigns/{api.campaign_id}/audit", params={"to": past_the_end}, headers=ADMIN_HEADERS
        )
        assert refused.status_code == 422, (past_the_end, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["to"]


def test_a_template_start_outside_the_supported_range_names_start(api: Api) -> None:
    for start in ("1900-01-01", "2100-12-31"):
        answer = api.client.post(
            "/api/campaigns",
            json={"name": start, "template": "hubei-2021", "start": start},
            headers=ADMIN_HEADERS,
        )
        assert answer.status_code == 422, answer.text
        assert _fields(answer) == ["start"]
        assert "1901-01-01 to 2100-09-07" in answer.text
    first = api.client.post(
        "/api/campaigns",
        json={"name": "first", "template": "hubei-2021", "start": "1901-01-01"},
        headers=ADMIN_HEADERS,
    )
    assert first.status_code == 201, first.text
    assert first.json()["timeline"]["publicity"]["opens"] == "1901-01-01T00:00:00+08:00"


def test_training_cannot_open_while_registration_is_open(api: Api) -> None:
    api.clock.now = RECOMMENDING
    early = _post(
        api,
        "/timeline",
        {"timeline": {"online_training": {"opens": "2021-07-07T23:59:59+08:00"}}, "reason": "提前"},
    )
    assert (early.status_code, early.json()["rule"]) == (409, "invalid_timeline"), early.text
    assert "while registration is open" in early.json()["detail"]
    assert _post(api, "/phases/self_registration/open", {"reason": "公众号开通"}).status_code == 200
    api.clock.now = shanghai(2021, 7, 7, 23, 59, 59)
    opened = _post(api, "/phases/online_training/open", {"reason": "平台提前就绪"})
    assert (opened.status_code, opened.json()["rule"]) == (409, "invalid_timeline"), opened.text
    late = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=form(2, group="family"))
    assert late.status_code in (201, 202), late.text
    api.clock.now = shanghai(2021, 7, 8)
    assert _post(api, "/phases/online_training/open", {"reason": "平台提前就绪"}).status_code == 200


def test_a_campaign_wholly_past_says_its_channel_has_closed(api: Api) -> None:
    api.clock.now = shanghai(2026, 12, 3, 10)
    registered = api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(3, group="family")
    )
    assert (registered.status_code, registered.json()["rule"]) == (409, "phase_closed")
    assert "self_registration closed at 2021-07-08T00:00" in registered.json()["detail"]
    campaign = api.client.get(f"/api/campaigns/{api.campaign_id}", headers=ADMIN_HEADERS).json()
    assert campaign["timeline"]["self_registration"]["status"] == "closed"
    page = api.client.get(f"/c/{api.campaign_id}/register")
    assert page.status_code == 200
    assert "自主报名通道已截止" in page.text
    assert "2021-07-07 24:00（北京时间）" in page.text
    assert "尚未开放" not in page.text
