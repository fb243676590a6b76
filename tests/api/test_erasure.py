"""Erasure over HTTP: organisers only, with a reason; answers, /pii and exports show 已删除."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from tests.api.helpers import ADMIN_HEADERS, REVIEWING, Api, form
from tests.builders import id_number, mobile

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


def _read(api: Api, path: str, position: str, **params: Any) -> Any:
    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/{path}",
        params={"min_position": position, **params},
        headers=ADMIN_HEADERS,
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_exports_statistics_and_the_trail_after_an_erasure(api: Api) -> None:
    api.open_self_registration()
    contestant_id = api.recommend(7, group="veteran")
    registrations = f"/api/campaigns/{api.campaign_id}/registrations"
    for body in (form(7, group="veteran"), form(8, group="veteran", account="streamer7")):  # repeats
        assert api.client.post(registrations, json=body).status_code == 202
    assert api.client.post(registrations, json=form(9, group="veteran")).status_code == 202
    position = api.log_head()
    masked = id_number(7)[:6] + "*" * 8 + id_number(7)[-4:]  # as the organisers see the repeat
    traces = ["选手7", id_number(7), masked, mobile(7), "streamer7", "选手8"]
    counts = [_read(api, path, position).json() for path in ("statistics", "quotas", "funnel")]
    repeats = _read(api, "audit", position, type="RegistrationDuplicated").json()["entries"]
    assert any(masked in entry["reason"] for entry in repeats)  # followed up while the data are kept

    api.clock.now = REVIEWING
    erased = api.client.post(
        f"/api/contestants/{contestant_id}/erase", json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS
    )
    assert erased.status_code == 200, erased.text
    position = erased.headers["X-Log-Position"]
    assert [_read(api, path, position).json() for path in ("statistics", "quotas", "funnel")] == counts
    sheet = load_workbook(io.BytesIO(_read(api, "roster.xlsx", position).content), read_only=True).active
    assert sheet is not None
    cells = " ".join(
        str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
    )
    assert ERASED in cells
    assert "选手9" in cells
    for path, params in (
        ("audit", {"format": "csv"}),
        ("audit", {"type": "RegistrationDuplicated"}),
        ("contestants", {}),
    ):
        text = _read(api, path, position, **params).content.decode("utf-8-sig")
        for trace in traces:
            assert trace not in text, f"{path} {params} still shows {trace!r}"
    for trace in traces:
        assert trace not in cells, f"roster.xlsx still shows {trace!r}"
    trail = _read(api, "audit", position, format="csv").content.decode("utf-8-sig")
    assert ERASED in trail
    assert "删除个人信息" in trail
