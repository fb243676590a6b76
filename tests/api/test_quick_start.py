"""The README's quick start: a campaign dated today, run on organiser overrides."""

from __future__ import annotations

from tests.api.helpers import ADMIN_HEADERS, Api, form
from tests.builders import shanghai


def test_a_campaign_dated_today_takes_recommendations_after_two_overrides(api: Api) -> None:
    api.clock.now = today = shanghai(2026, 12, 1, 9)
    launched = api.client.post(
        "/api/campaigns",
        json={"name": "战友杯 演练", "template": "hubei-2021", "start": today.date().isoformat()},
        headers=ADMIN_HEADERS,
    )
    assert launched.status_code == 201, launched.text
    timeline = launched.json()["timeline"]
    assert timeline["publicity"]["opens"] == "2026-12-01T00:00:00+08:00"
    assert timeline["recommendation"]["opens"] == "2026-12-15T00:00:00+08:00"
    cid = launched.json()["id"]

    for path in ("phases/publicity/close", "phases/registration/open", "phases/recommendation/open"):
        url = f"/api/campaigns/{cid}/{path}"
        answer = api.client.post(url, json={"reason": "演练"}, headers=ADMIN_HEADERS)
        assert answer.status_code == 200, f"{path}: {answer.text}"
    nominated = api.client.post(f"/api/campaigns/{cid}/contestants", json=form(1), headers=ADMIN_HEADERS)

    assert nominated.status_code == 201, nominated.text
