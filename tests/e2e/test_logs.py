"""`zhanyou serve` logs JSON lines with request id, actor, campaign and log position; nothing personal."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.builders import id_number, mobile
from tests.drills.processes import ADMIN, Server, store_env
from tests.topology_timeline import open_timeline


def test_the_service_logs_json_lines_without_personal_data(tmp_path: Path) -> None:
    api = Server("api", store_env(f"sqlite:///{tmp_path / 'events.db'}"), tmp_path)
    try:
        api.wait_ready()
        with httpx.Client(base_url=api.url, timeout=10, headers=ADMIN) as http:
            staff = http.post(
                "/api/users", json={"username": "wuhan-9", "role": "city_staff", "city": "武汉市"}
            )
            token = staff.json()["token"]
            cid = http.post("/api/campaigns", json={"name": "logs", "timeline": open_timeline()}).json()["id"]
            form = {
                "group": "veteran",
                "city": "武汉市",
                "name": "欧阳娜娜",
                "id_number": id_number(5),
                "mobile": mobile(5),
                "platform": "抖音",
                "account": "ouyang_handle",
                "followers": 10,
            }
            headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "drill-42"}
            created = http.post(f"/api/campaigns/{cid}/contestants", json=form, headers=headers)
            assert created.status_code == 201, created.text
            assert created.headers["X-Request-ID"] == "drill-42"
            search = http.get(f"/api/campaigns/{cid}/contestants", params={"q": "欧阳娜娜"})
            assert search.status_code == 200
    finally:
        api.stop()
    text = api.text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    nomination = [line for line in lines if line.get("request_id") == "drill-42"]
    assert nomination, text
    access = nomination[-1]
    assert access["actor"] == "wuhan-9"
    assert access["campaign"] == cid
    assert access["log_position"] == int(created.headers["X-Log-Position"])
    assert access["route"] == "/api/campaigns/{cid}/contestants"
    for personal in ("欧阳娜娜", id_number(5), mobile(5), "ouyang_handle", "%E6%AC%A7"):
        assert personal not in text
