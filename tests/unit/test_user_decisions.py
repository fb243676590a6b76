"""User management takes the decision context: who, when, why, on what evidence, which command."""

from __future__ import annotations

from domain.decision import Decision, DecisionContext
from domain.events import DecisionEvent
from domain.users import User
from tests.builders import ADMIN
from tests.unit.helpers import WUHAN, sh

CREATED = sh(2021, 5, 1)


def _user() -> User:
    return User.create(
        DecisionContext(actor=ADMIN, at=CREATED, evidence="人事处通知", command_id="cmd-1"),
        username="wuhan-7",
        role="city_staff",
        city=WUHAN,
        token_hash="0" * 64,
    )


def test_creation_records_whom_it_made_with_the_contexts_evidence_and_command_id() -> None:
    (created,) = _user().collect_events()
    assert isinstance(created, DecisionEvent)
    assert created.decision == Decision(ADMIN, 0, "用户 wuhan-7（city_staff，武汉市）", "人事处通知", "cmd-1")
    assert created.timestamp == CREATED


def test_each_change_names_the_user_then_the_contexts_reason() -> None:
    user = _user()
    user.collect_events()
    at = sh(2021, 6, 1)
    given = DecisionContext(actor=ADMIN, at=at, reason="调岗", evidence="调令", command_id="cmd-2")
    user.disable(given)
    user.enable(given)
    user.rotate_token("1" * 64, given, expires_at=None)
    described = "用户 wuhan-7（city_staff，武汉市）；调岗"
    assert [(type(e).__name__, e.decision, e.timestamp) for e in user.collect_events()] == [  # type: ignore[attr-defined]
        (kind, Decision(ADMIN, 0, f"{verb}：{described}", "调令", "cmd-2"), at)
        for kind, verb in (("UserDisabled", "停用"), ("UserEnabled", "启用"), ("TokenRotated", "更换令牌"))
    ]
