"""Age rules per group are campaign settings; adults at nomination unless the campaign says otherwise."""

from __future__ import annotations

from stdnum.cn import ric

from tests.api.helpers import ADMIN_HEADERS, LAUNCH, RECOMMENDING, Api, form


def born_in(year: int, seq: int) -> str:
    body = f"420102{year}0101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_a_child_is_refused_as_a_veteran_by_default(api: Api) -> None:
    campaign = api.client.get(f"/api/campaigns/{api.campaign_id}", headers=ADMIN_HEADERS).json()
    assert campaign["age_rules"]["veteran"] == {"min_age": 18, "max_age": None}
    api.clock.now = RECOMMENDING

    child = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        json=form(1, group="veteran", id_number=born_in(2015, 1)),
        headers=ADMIN_HEADERS,
    )

    assert (child.status_code, child.json()["rule"]) == (409, "age_not_allowed")
    assert "aged 18 or over" in child.json()["detail"]
    assert "2015" not in child.json()["detail"]  # the birth date is not echoed
    adult = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        json=form(2, group="veteran", id_number=born_in(2003, 2)),  # 18 on 1 Jan 2021
        headers=ADMIN_HEADERS,
    )
    assert adult.status_code == 201, adult.text


def test_a_campaign_sets_its_own_age_rules(api: Api) -> None:
    api.clock.now = LAUNCH
    launched = api.client.post(
        "/api/campaigns",
        json={
            "name": "少年组",
            "template": "hubei-2021",
            "age_rules": {
                "family": {"min_age": 6, "max_age": None},
                "veteran": {"min_age": 18, "max_age": 60},
            },
        },
        headers=ADMIN_HEADERS,
    )
    assert launched.status_code == 201, launched.text
    cid = launched.json()["id"]
    assert launched.json()["age_rules"]["trainee"] == {"min_age": 18, "max_age": None}
    api.clock.now = RECOMMENDING

    def recommend(seq: int, group: str, year: int) -> int:
        body = form(seq, group=group, id_number=born_in(year, seq))
        answer = api.client.post(f"/api/campaigns/{cid}/contestants", json=body, headers=ADMIN_HEADERS)
        status: int = answer.status_code
        return status

    assert recommend(1, "family", 2012) == 201
    assert recommend(2, "veteran", 1950) == 409  # over 60
    assert recommend(3, "trainee", 2012) == 409
    bad = api.client.post(
        "/api/campaigns",
        json={"name": "错", "age_rules": {"veteran": {"min_age": 40, "max_age": 30}}},
        headers=ADMIN_HEADERS,
    )
    assert (bad.status_code, bad.json()["rule"]) == (422, "invalid_value")
