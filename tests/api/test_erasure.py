"""Erasure over HTTP: organisers only, with a reason; answers, /pii and exports show 已删除."""

from __future__ import annotations

from tests.api.helpers import ADMIN_HEADERS, REVIEWING, Api, form

ERASED = "已删除"


def test_an_organiser_erases_a_person_and_every_answer_shows_the_marker(api: Api) -> None:
    contestant_id = api.recommend(7)
    api.clock.now = REVIEWING
    path = f"/api/contestants/{contestant_id}/erase"
    refused = api.client.post(path, json={}, headers=ADMIN_HEADERS)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "reason_required"
    staff = api.client.post(path, json={"reason": "本人申请"}, headers=api.as_("city_staff"))
    assert staff.status_code == 403
    erased = api.client.post(path, json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS)
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert (body["name"], body["id_number"], body["mobile"], body["account"]) == (ERASED,) * 4
    assert body["status"] == "nominated"
    assert body["city"] == form(7)["city"]
    pii = api.client.get(f"/api/contestants/{contestant_id}/pii", headers=ADMIN_HEADERS).json()
    assert (pii["name"], pii["id_number"], pii["mobile"]) == (ERASED,) * 3
    history = api.client.get(f"/api/contestants/{contestant_id}/history", headers=ADMIN_HEADERS).json()
    # the organiser's read of the (erased) numbers just above is on the history too
    assert [entry["type"] for entry in history] == ["Nominated", "Erased", "PersonalDataRead"]
    assert form(7)["name"] not in str(history)
    again = api.client.post(path, json={"reason": "再次"}, headers=ADMIN_HEADERS)
    assert again.status_code == 409
    assert again.json()["rule"] == "already_erased"
