"""Business instants answer in Asia/Shanghai (+08:00), the day a clerk reads being the right one."""

from __future__ import annotations

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form


def test_every_answer_gives_instants_with_the_shanghai_offset(api: Api) -> None:
    cid = api.campaign_id
    api.clock.now = RECOMMENDING  # 2021-06-10 10:00 Shanghai
    created = api.client.post(f"/api/campaigns/{cid}/contestants", json=form(1), headers=ADMIN_HEADERS)
    contestant, position = created.json()["id"], created.headers["X-Log-Position"]

    campaign = api.client.get(f"/api/campaigns/{cid}", headers=ADMIN_HEADERS).json()
    single = api.client.get(f"/api/contestants/{contestant}", headers=ADMIN_HEADERS)
    history = api.client.get(f"/api/contestants/{contestant}/history", headers=ADMIN_HEADERS).json()
    roster = api.client.get(
        f"/api/campaigns/{cid}/contestants", params={"min_position": position}, headers=ADMIN_HEADERS
    ).json()
    audit = api.client.get(
        f"/api/campaigns/{cid}/audit", params={"min_position": position}, headers=api.as_("auditor")
    ).json()
    schedule = api.client.get(f"/api/campaigns/{cid}/schedule", headers=ADMIN_HEADERS).json()

    assert campaign["timeline"]["publicity"]["opens"] == "2021-05-24T00:00:00+08:00"
    assert single.json()["nominated_at"] == "2021-06-10T10:00:00+08:00"
    assert history[0]["at"] == "2021-06-10T10:00:00+08:00"
    assert roster["contestants"][0]["nominated_at"] == "2021-06-10T10:00:00+08:00"
    assert audit["entries"]
    assert all(e["at"].endswith("+08:00") for e in audit["entries"])
    assert schedule["boundaries"][0]["instant"] == "2021-05-24T00:00:00+08:00"
