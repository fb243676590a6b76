"""Masking everywhere but /pii; who may read personal data; every read is recorded."""

from __future__ import annotations

from uuid import UUID

from application.service import CampaignService
from tests.api.helpers import ADMIN_HEADERS, REVIEWING, ROLES, Api
from tests.builders import id_number, mobile


def _service(api: Api) -> CampaignService:
    service: CampaignService = api.client.app.state.service  # type: ignore[attr-defined]
    return service


def test_numbers_are_masked_in_every_answer(api: Api) -> None:
    contestant_id = api.recommend(7)
    api.step(contestant_id, "verify", REVIEWING)
    full_id, full_mobile = id_number(7), mobile(7)
    masked_id = full_id[:6] + "********" + full_id[-4:]
    masked_mobile = full_mobile[:3] + "****" + full_mobile[-4:]

    record = api.client.get(f"/api/contestants/{contestant_id}", headers=ADMIN_HEADERS)
    assert (record.json()["id_number"], record.json()["mobile"]) == (masked_id, masked_mobile)
    assert record.headers["etag"] == '"2"'
    history = api.client.get(f"/api/contestants/{contestant_id}/history", headers=ADMIN_HEADERS)
    assert [entry["type"] for entry in history.json()] == ["Nominated", "Verified"]
    assert history.json()[0]["changes"]["id_number"] == [None, masked_id]
    as_of = api.client.get(
        f"/api/contestants/{contestant_id}",
        params={"as_of": "2021-06-15T00:00:00+08:00"},
        headers=ADMIN_HEADERS,
    )
    assert (as_of.json()["status"], as_of.json()["version"]) == ("nominated", 1)
    for answer in (record, history, as_of):
        assert full_id not in answer.text
        assert full_mobile not in answer.text


def test_who_reads_what(api: Api) -> None:
    contestant_id = api.recommend(8)
    paths = {
        "record": f"/api/contestants/{contestant_id}",
        "history": f"/api/contestants/{contestant_id}/history",
        "pii": f"/api/contestants/{contestant_id}/pii",
    }
    seen = {
        (kind, role): api.client.get(path, headers=api.as_(role)).status_code
        for kind, path in paths.items()
        for role in ROLES
    }
    expected_readers = {
        "record": {"admin", "city_staff", "judge", "auditor"},
        "history": {"admin", "city_staff", "auditor"},
        "pii": {"admin", "city_staff"},
    }
    # a role that may not read the contestant at all is answered as for an unknown id
    hidden = {"leader", "other_city_staff"}
    assert seen == {
        (kind, role): 200 if role in expected_readers[kind] else 404 if role in hidden else 403
        for kind in paths
        for role in ROLES
    }


def test_personal_data_reads_are_recorded(api: Api) -> None:
    contestant_id = api.recommend(9)
    assert _service(api).personal_data_reads(UUID(contestant_id)) == []

    answer = api.client.get(f"/api/contestants/{contestant_id}/pii", headers=api.as_("city_staff"))
    assert answer.json() == {
        "id": contestant_id,
        "name": "选手9",
        "id_number": id_number(9),
        "mobile": mobile(9),
    }
    api.client.get(f"/api/contestants/{contestant_id}/pii", headers=api.as_("admin"))
    refused = api.client.get(f"/api/contestants/{contestant_id}/pii", headers=api.as_("other_city_staff"))
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"no contestant {contestant_id}"

    reads = _service(api).personal_data_reads(UUID(contestant_id))
    assert [(r["user"], r["role"], r["fields"]) for r in reads] == [
        ("wuhan-1", "city_staff", ["id_number", "mobile"]),
        ("admin-1", "admin", ["id_number", "mobile"]),
    ]


def test_leaders_get_no_personal_data(api: Api) -> None:
    contestant_id = api.recommend(10)
    for suffix in ("", "/history", "/pii"):
        answer = api.client.get(f"/api/contestants/{contestant_id}{suffix}", headers=api.as_("leader"))
        assert answer.status_code == 404
        assert "选手10" not in answer.text
        assert "420102" not in answer.text
