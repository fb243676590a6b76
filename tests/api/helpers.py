"""The API under test: the real app over the real store, a settable clock, users per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.builders import id_number, mobile, shanghai

BOOTSTRAP = "bootstrap-token-for-tests-0123456789"
OWN_CITY = "武汉市"
OTHER_CITY = "黄石市"

LAUNCH = shanghai(2021, 5, 20, 9)
RECOMMENDING = shanghai(2021, 6, 10, 10)
REVIEWING = shanghai(2021, 6, 20, 15)
TRAINING = shanghai(2021, 7, 10, 9)
TRAINED = shanghai(2021, 7, 18, 17)
COMPETING = shanghai(2021, 8, 20, 12)
PICKING = shanghai(2021, 9, 2, 10)
AWARDING = shanghai(2021, 9, 15, 20)
SCORES = {"short_video": 88, "account_operation": 75.5, "livestream_selling": 92}


@dataclass
class Clock:
    """The instant every request decides at; tests move it."""

    now: datetime = LAUNCH

    def __call__(self) -> datetime:
        return self.now


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN_HEADERS = bearer(BOOTSTRAP)


def form(seq: int, city: str = OWN_CITY, group: str = "trainee", **extra: Any) -> dict[str, Any]:
    return {
        "group": group,
        "city": city,
        "name": f"选手{seq}",
        "id_number": id_number(seq),
        "mobile": mobile(seq),
        "platform": "douyin",
        "account": f"streamer{seq}",
        "followers": 100 * seq,
        **extra,
    }


@dataclass
class Api:
    """A client with one user per role and the campaign of the hubei-2021 timeline."""

    client: TestClient
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)
    campaign_id: str = ""

    def as_(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    def create_user(self, username: str, role: str, city: str | None = None) -> str:
        answer = self.client.post(
            "/api/users", json={"username": username, "role": role, "city": city}, headers=ADMIN_HEADERS
        )
        assert answer.status_code == 201, answer.text
        token: str = answer.json()["token"]
        return token

    def launch(self, name: str = "战友杯 2021") -> str:
        self.clock.now = LAUNCH
        answer = self.client.post(
            "/api/campaigns", json={"name": name, "template": "hubei-2021"}, headers=ADMIN_HEADERS
        )
        assert answer.status_code == 201, answer.text
        self.campaign_id = answer.json()["id"]
        return self.campaign_id

    def log_head(self) -> str:
        """The log's head, for anonymous writes, which answer with no ``X-Log-Position``."""
        return str(self.client.app.state.service.last_notification_id())  # type: ignore[attr-defined]

    def recommend(self, seq: int, city: str = OWN_CITY, group: str = "trainee") -> str:
        self.clock.now = RECOMMENDING
        answer = self.client.post(
            f"/api/campaigns/{self.campaign_id}/contestants",
            json=form(seq, city, group),
            headers=ADMIN_HEADERS,
        )
        assert answer.status_code == 201, answer.text
        contestant_id: str = answer.json()["id"]
        return contestant_id

    def open_self_registration(self, at: datetime = RECOMMENDING, reason: str = "announced") -> str:
        """Self-registration opened by the organisers at ``at``; the address people register at."""
        self.clock.now = at
        opened = self.client.post(
            f"/api/campaigns/{self.campaign_id}/phases/self_registration/open",
            json={"reason": reason},
            headers=ADMIN_HEADERS,
        )
        assert opened.status_code == 200, opened.text
        return f"/api/campaigns/{self.campaign_id}/registrations"

    def step(self, contestant_id: str, action: str, at: datetime, body: dict[str, Any] | None = None) -> None:
        self.clock.now = at
        answer = self.client.post(
            f"/api/contestants/{contestant_id}/{action}", json=body or {}, headers=ADMIN_HEADERS
        )
        assert answer.status_code == 200, answer.text


ROLES = ("admin", "city_staff", "other_city_staff", "judge", "auditor", "leader")


def with_users(api: Api) -> Api:
    api.tokens["admin"] = api.create_user("admin-1", "admin")
    api.tokens["city_staff"] = api.create_user("wuhan-1", "city_staff", OWN_CITY)
    api.tokens["other_city_staff"] = api.create_user("huangshi-1", "city_staff", OTHER_CITY)
    api.tokens["judge"] = api.create_user("judge-1", "judge")
    api.tokens["auditor"] = api.create_user("auditor-1", "auditor")
    api.tokens["leader"] = api.create_user("leader-1", "leader")
    return api
