"""A token's answer is reused for a few seconds only, and a refusal is never reused."""

from __future__ import annotations

from api.recent_tokens import RecentTokens
from domain.values import Actor, Role

STAFF = Actor(user="staff-1", role=Role.CITY_STAFF, city="武汉市")


class Users:
    """Stands for the store's users: which tokens are valid right now, and how often asked."""

    def __init__(self) -> None:
        self.valid: dict[str, Actor] = {}
        self.asked = 0

    def authenticate(self, token: str) -> Actor | None:
        self.asked += 1
        return self.valid.get(token)


def test_a_revoked_token_stops_working_once_its_answer_expires() -> None:
    now = [100.0]
    recent, users = RecentTokens(ttl=3.0, clock=lambda: now[0]), Users()
    users.valid["zy_a"] = STAFF

    assert recent.actor("zy_a", users.authenticate) == STAFF
    assert recent.actor("zy_a", users.authenticate) == STAFF
    assert users.asked == 1

    del users.valid["zy_a"]  # revoked
    now[0] += 2.9
    assert recent.actor("zy_a", users.authenticate) == STAFF
    now[0] += 0.2
    assert recent.actor("zy_a", users.authenticate) is None
    assert users.asked == 2


def test_an_unknown_token_is_asked_again_every_time() -> None:
    recent, users = RecentTokens(ttl=3.0, clock=lambda: 0.0), Users()
    assert recent.actor("zy_new", users.authenticate) is None
    users.valid["zy_new"] = STAFF  # the user is created meanwhile
    assert recent.actor("zy_new", users.authenticate) == STAFF
    assert users.asked == 2
