"""What every recorded decision carries besides its time: who, why, under which rules."""

from __future__ import annotations

from dataclasses import dataclass

from domain.text import check_text
from domain.values import Actor


@dataclass(frozen=True)
class Decision:
    actor: Actor
    rule_version: int
    reason: str | None = None
    evidence: str | None = None

    @classmethod
    def of(
        cls, actor: Actor, rule_version: int, reason: str | None = None, evidence: str | None = None
    ) -> Decision:
        check_text({"reason": reason, "evidence": evidence}, multiline=frozenset({"reason", "evidence"}))
        return cls(actor, rule_version, (reason or "").strip() or None, (evidence or "").strip() or None)
