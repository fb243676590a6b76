"""Finding things: campaigns and users listed, roster filters in Chinese, pinyin and 附件1 order."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form


def test_campaigns_are_listed_with_the_phases_open_now(api: Api) -> None:
    api.clock.now = RECOMMENDING
    answer = api.client.get("/api/campaigns", headers=api.as_("judge"))
    assert answer.status_code == 200, answer.text
    [campaign] = answer.json()
    assert (campaign["id"], campaign["name"]) == (api.campaign_id, "战友杯 2021")
    assert campaign["open_now"] == ["registration", "recommendation"]
    assert campaign["launched_at"].endswith("+08:00")


def test_users_are_listed_for_organisers_only(api: Api) -> None:
    listed = api.client.get("/api/users", headers=ADMIN_HEADERS)
    assert listed.status_code == 200
    assert ("wuhan-1", "city_staff", "武汉市") in [
        (u["username"], u["role"], u["city"]) for u in listed.json()
    ]
    assert all("token" not in user and "token_hash" not in user for user in listed.json())  # never a token
    refused = api.client.get("/api/users", headers=api.as_("city_staff"))
    assert (refused.status_code, refused.json()["rule"]) == (403, "not_permitted")


def _recommend(api: Api, seq: int, **fields: Any) -> int:
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=form(seq, **fields), headers=ADMIN_HEADERS
    )
    assert answer.status_code == 201, answer.text
    return int(answer.headers["X-Log-Position"])


def _roster(api: Api, position: int, **params: Any) -> Any:
    return api.client.get(
        f"/api/campaigns/{api.campaign_id}/contestants",
        params={"min_position": position, **params},
        headers=ADMIN_HEADERS,
    )


def test_roster_filters_take_the_chinese_values_the_forms_use(api: Api) -> None:
    _recommend(api, 1, group="veteran", platform="快手")
    position = _recommend(api, 2, group="trainee")

    veterans = _roster(api, position, group="退役军人组")
    on_kuaishou = _roster(api, position, platform="快手")
    on_douyin = _roster(api, position, platform="抖音")
    unknown = _roster(api, position, platform="微博")

    assert [c["name"] for c in veterans.json()["contestants"]] == ["选手1"]
    assert [c["name"] for c in on_kuaishou.json()["contestants"]] == ["选手1"]
    assert [c["name"] for c in on_douyin.json()["contestants"]] == ["选手2"]
    assert (unknown.status_code, unknown.json()["rule"]) == (422, "invalid_value")


def test_names_sort_by_pinyin_and_cities_follow_the_notices_table(api: Api) -> None:
    names = {1: ("张三", "黄石市"), 2: ("阿明", "神农架林区"), 3: ("李四", "武汉市"), 4: ("王五", "十堰市")}
    position = 0
    for seq, (name, city) in names.items():
        position = _recommend(api, seq, name=name, city=city)

    by_name = _roster(api, position).json()["contestants"]
    quotas = api.client.get(
        f"/api/campaigns/{api.campaign_id}/quotas", params={"min_position": position}, headers=ADMIN_HEADERS
    ).json()["quotas"]

    assert [c["name"] for c in by_name] == ["阿明", "李四", "王五", "张三"]  # a, li, wang, zhang
    cities = list(dict.fromkeys(q["city"] for q in quotas))
    assert cities[:4] == ["武汉市", "黄石市", "十堰市", "襄阳市"]
    assert cities[-1] == "神农架林区"
    assert [q["group"] for q in quotas[:2]] == ["trainee", "veteran"]
