"""What every decision takes (its context) and what every recorded decision carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidValue, OutOfOrder, VersionConflict
from domain.text import check_text
from domain.timeline import shanghai_text, to_utc
from domain.values import Actor


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


@dataclass(frozen=True)
class Decision:
    """Recorded in every decision event: who decided, why, on what evidence, under which rules.

    :ivar command_id: the command that recorded it, so a retry can tell its own write.
    """

    actor: Actor
    rule_version: int
    reason: str | None = None
    evidence: str | None = None
    command_id: str | None = None

    @classmethod
    def of(
        cls,
        actor: Actor,
        rule_version: int,
        reason: str | None = None,
        evidence: str | None = None,
        command_id: str | None = None,
    ) -> Decision:
        check_text({"reason": reason, "evidence": evidence}, multiline=frozenset({"reason", "evidence"}))
        return cls(actor, rule_version, _text(reason), _text(evidence), command_id)


@dataclass(frozen=True, kw_only=True)
class DecisionContext:
    """Everything a decision takes besides its own arguments, built once per request.

    :ivar actor: who decides.
    :ivar at: the instant of the decision (stored in UTC; a naive instant is refused).
    :ivar reason: why, when the rules ask for one or the actor gives one.
    :ivar evidence: what the decision rests on.
    :ivar expected_version: the version the decider saw (``If-Match``); None to skip the check.
    :ivar command_id: identifies the command across retries (the ``Idempotency-Key``, or fresh).
    """

    actor: Actor
    at: datetime
    reason: str | None = None
    evidence: str | None = None
    expected_version: int | None = None
    command_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise InvalidValue("at", f"an instant with a time zone is required, not {self.at!r}")
        object.__setattr__(self, "at", to_utc(self.at))

    def recorded(self, rule_version: int) -> Decision:
        """The decision as its event records it."""
        return Decision.of(self.actor, rule_version, self.reason, self.evidence, self.command_id)

    def require_current(self, action: str, what: str, *, version: int, last: datetime) -> None:
        """Refuse a decision dated before ``what``'s last recorded one (history is not
        rewritten), or taken on another version than the decider saw (``If-Match``).

        :param what: the aggregate as a message names it, e.g. ``"contestant"``.
        """
        if self.at < last:
            raise OutOfOrder(
                f"{action}: {shanghai_text(self.at)} is earlier than this {what}'s "
                f"last recorded decision ({shanghai_text(last)})"
            )
        expected = self.expected_version
        if expected is not None and expected != version:
            raise VersionConflict(
                f"{action}: the {what} is at version {version}, not {expected}; reload and decide again"
            )
