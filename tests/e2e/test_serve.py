"""`zhanyou serve` as a separate process: one contestant's whole life over HTTP, then SIGTERM."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.bombs import BOMBS
from tests.builders import id_number, mobile

TOKEN = "e2e-bootstrap-token-0123456789"  # noqa: S105 - a throwaway test token
ZHANYOU = str(Path(sys.executable).parent / "zhanyou")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    return env | variables


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    env = _env(ZHANYOU_DATABASE_URL=f"sqlite:///{tmp_path / 'events.db'}", ZHANYOU_BOOTSTRAP_TOKEN=TOKEN)
    process = subprocess.Popen(
        [ZHANYOU, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f"zhanyou serve did not come up:\n{output}")
        time.sleep(0.1)  # the process is starting; there is no position to wait on yet
    try:
        yield Server(process, base_url)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _iso(instant: datetime) -> str:
    return instant.isoformat()


def test_a_contestant_goes_through_the_whole_lifecycle_over_http(server: Server) -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)

    def window(opens: timedelta, closes: timedelta) -> dict[str, str]:
        return {"opens": _iso(now + opens), "closes": _iso(now + closes)}

    # Registration is open now; it is closed and every later phase opened and closed by organiser
    # overrides.
    timeline = {
        "publicity": window(-2 * day, -day),
        "registration": window(-timedelta(hours=1), 10 * day),
        "recommendation": window(-timedelta(hours=1), 10 * day),
        "self_registration": window(-timedelta(hours=1), 10 * day),
        "online_training": window(10 * day, 40 * day),
        "contest": window(25 * day, 40 * day),
        "offline_training": window(41 * day, 42 * day),
        "finals": window(43 * day, 44 * day),
        "ceremony": window(45 * day, 46 * day),
    }
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        admin = {"Authorization": f"Bearer {TOKEN}"}

        def post(path: str, body: dict[str, Any], headers: dict[str, str] = admin, status: int = 200) -> Any:
            answer = http.post(path, json=body, headers=headers)
            assert answer.status_code == status, f"{path}: {answer.text}"
            return answer.json()

        staff_token = post(
            "/api/users", {"username": "wuhan-1", "role": "city_staff", "city": "武汉市"}, status=201
        )["token"]
        judge_token = post("/api/users", {"username": "judge-1", "role": "judge"}, status=201)["token"]
        staff = {"Authorization": f"Bearer {staff_token}"}
        judge = {"Authorization": f"Bearer {judge_token}"}

        cid = post("/api/campaigns", {"name": "战友杯 e2e", "timeline": timeline}, status=201)["id"]
        form = {
            "group": "veteran",
            "city": "武汉市",
            "name": "张三",
            "id_number": id_number(1),
            "mobile": mobile(1),
            "platform": "抖音",
            "account": "zhang_san",
            "followers": 1200,
        }
        created = post(f"/api/campaigns/{cid}/contestants", form, headers=staff, status=201)
        contestant = created["id"]
        assert created["status"] == "nominated"

        def step(action: str, body: dict[str, Any], headers: dict[str, str] = admin) -> str:
            status: str = post(f"/api/contestants/{contestant}/{action}", body, headers=headers)["status"]
            return status

        assert step("verify", {"reason": "veteran ID seen"}) == "verified"
        post(f"/api/campaigns/{cid}/phases/registration/close", {"reason": "registration ends early"})
        post(f"/api/campaigns/{cid}/phases/online_training/open", {"reason": "training platform ready"})
        assert step("training-account", {"training_account": "hb-0001"}) == "enrolled"
        assert step("trained", {}, judge) == "trained"
        post(f"/api/campaigns/{cid}/phases/contest/open", {"reason": "contest starts early"})
        scores = {"short_video": 90, "account_operation": 80, "livestream_selling": 95}
        assert step("results", {"scores": scores}, judge) == "competed"
        post(f"/api/campaigns/{cid}/phases/contest/close", {"reason": "contest ends"})
        assert step("advance", {"role": "streamer"}, staff) == "advanced"
        post(f"/api/campaigns/{cid}/phases/offline_training/open", {"reason": "training before the finals"})
        post(f"/api/campaigns/{cid}/phases/finals/open", {"reason": "finals day"})
        assert step("award", {"award": "一等奖"}) == "awarded"

        history = http.get(f"/api/contestants/{contestant}/history", headers=admin).json()
        assert [e["type"] for e in history] == [
            "Nominated",
            "Verified",
            "TrainingAccountAssigned",
            "Trained",
            "Competed",
            "Advanced",
            "Awarded",
        ]
        assert id_number(1) not in http.get(f"/api/contestants/{contestant}", headers=admin).text

    server.process.send_signal(signal.SIGTERM)
    output, _ = server.process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert server.process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output


def test_a_refused_upload_keeps_the_connection_open(server: Server) -> None:
    """A damaged or hostile sheet is a 4xx answered on a connection that serves the next request."""
    port = int(server.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    admin = {"Authorization": f"Bearer {TOKEN}"}

    def send(method: str, path: str, body: bytes, content_type: str) -> tuple[int, Any]:
        connection.request(method, path, body=body, headers={**admin, "Content-Type": content_type})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())

    status, campaign = send(
        "POST",
        "/api/campaigns",
        json.dumps({"name": "e2e", "template": "hubei-2021"}).encode(),
        "application/json",
    )
    assert status == 201, campaign
    socket_used = connection.sock
    boundary = "upload-boundary"
    for endpoint in ("scores", "training-accounts"):
        for bomb in ("truncated-sheet", "entities", "long-field"):
            build, filename = BOMBS[bomb]
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + build()
                + f"\r\n--{boundary}--\r\n".encode()
            )
            path = f"/api/campaigns/{campaign['id']}/{endpoint}"
            status, problem = send("POST", path, body, f"multipart/form-data; boundary={boundary}")
            assert (status, problem["rule"]) == (422, "form_unreadable"), (endpoint, bomb, problem)
            assert connection.sock is socket_used, f"{endpoint} {bomb}: the connection was closed"
    connection.close()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHANYOU_DATABASE_URL", "mysql://localhost/x"),
        ("ZHANYOU_REGISTRATION_RATE", "lots"),
        ("ZHANYOU_TRUSTED_PROXIES", "*"),
    ],
)
def test_a_wrong_setting_stops_startup_with_one_line(tmp_path: Path, variable: str, value: str) -> None:
    env = _env(ZHANYOU_DATABASE_URL=f"sqlite:///{tmp_path / 'events.db'}") | {variable: value}
    result = subprocess.run(
        [ZHANYOU, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"zhanyou: {variable}:"), result.stderr


@pytest.mark.parametrize("command", [["project"], ["scheduler"], ["rebuild"], ["demo", "--configured-store"]])
def test_every_command_stops_with_one_line_on_a_store_it_cannot_use(
    tmp_path: Path, command: list[str]
) -> None:
    unreachable = _env(ZHANYOU_DATABASE_URL=f"postgresql://nobody@127.0.0.1:{_free_port()}/none")
    bad_schema = unreachable | {"ZHANYOU_DATABASE_SCHEMA": "x; DROP SCHEMA public"}
    for env, starts in (
        (unreachable, "zhanyou: the event store (PostgreSQL 127.0.0.1:"),
        (bad_schema, "zhanyou: ZHANYOU_DATABASE_SCHEMA:"),
    ):
        result = subprocess.run([ZHANYOU, *command], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(starts), result.stderr
