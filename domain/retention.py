"""How long a campaign keeps its contestants' personal data (PIPL art. 47): a campaign setting.

The personal fields are erased a whole number of days after the award ceremony ends, at
00:00 Asia/Shanghai; the audit trail (who decided what, when, under which rules) is kept,
as the Cybersecurity Law asks of logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from domain.errors import InvalidValue, NotPermitted
from domain.timeline import SHANGHAI, PhaseCode, Timeline, day_start, to_utc
from domain.values import Actor, Role

LONGEST_DAYS = 3650
RetentionState = Literal["none", "unscheduled", "pending", "done"]


@dataclass(frozen=True)
class RetentionPolicy:
    """:ivar erase_after_days: whole days after the ceremony's end (0: at its end)."""

    erase_after_days: int

    def checked(self) -> RetentionPolicy:
        if not isinstance(self.erase_after_days, int) or not 0 <= self.erase_after_days <= LONGEST_DAYS:
            raise InvalidValue(
                "retention",
                f"personal data are kept 0 to {LONGEST_DAYS} days after the ceremony, "
                f"not {self.erase_after_days!r}",
            )
        return self

    def due(self, timeline: Timeline) -> datetime | None:
        """The instant (UTC) the data fall due for erasure; None while the ceremony has no end date.

        Days are counted from the first midnight at or after the ceremony's end, so the due
        instant is always 00:00 Asia/Shanghai.
        """
        ends = timeline[PhaseCode.CEREMONY].closes
        if ends is None:
            return None
        local = ends.astimezone(SHANGHAI)
        first = local.date() if local.time() == time(0) else local.date() + timedelta(days=1)
        return to_utc(day_start(first + timedelta(days=self.erase_after_days)))

    def describe(self, rule_version: int) -> str:
        """The rule as the scheduler's erasures name it."""
        return (
            f"保留期满：颁奖典礼结束后 {self.erase_after_days} 天删除个人信息，审计记录保留"
            f"（保留规则，规则版本 {rule_version}）"
        )

    def to_data(self) -> dict[str, Any]:
        return {"erase_after_days": self.erase_after_days}

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> RetentionPolicy | None:
        return None if data is None else cls(int(data["erase_after_days"]))


@dataclass(frozen=True)
class RetentionCandidate:
    """A contestant whose personal data the policy would erase (the name is for masking)."""

    contestant_id: UUID
    city: str
    group: str
    channel: str
    name: str
    nominated_at: datetime


@dataclass(frozen=True)
class RetentionPlan:
    """The dry run: who the campaign's policy would erase, and when; nothing is erased."""

    campaign_id: UUID
    policy: RetentionPolicy | None
    rule_version: int
    due: datetime | None
    carried_out_at: datetime | None
    people: list[RetentionCandidate]

    @property
    def state(self) -> RetentionState:
        if self.carried_out_at is not None:
            return "done"
        if self.policy is None:
            return "none"
        return "pending" if self.due is not None else "unscheduled"


def require_may_list_retention(actor: Actor) -> None:
    """The list names people (masked): organisers, who set the policy, and auditors, who check it."""
    if actor.role not in (Role.ADMIN, Role.AUDITOR):
        raise NotPermitted(f"retention plan: the role {actor.role} may not read it (allowed: admin, auditor)")
