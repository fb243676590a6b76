"""Refusals of the domain. Each names the rule it enforces, in a stable code."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a rule; ``rule`` is a stable machine-readable code."""

    rule = "domain_rule"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidValue(DomainError):
    """Fields failed validation; ``problems`` maps each bad field to what is wrong."""

    rule = "invalid_value"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.problems = {field: detail}

    @classmethod
    def many(cls, problems: dict[str, str]) -> InvalidValue:
        error = cls(*next(iter(problems.items())))
        error.problems = dict(problems)
        error.detail = "; ".join(f"{field}: {detail}" for field, detail in problems.items())
        error.args = (error.detail,)
        return error


class ReasonRequired(DomainError):
    rule = "reason_required"


class NotPermitted(DomainError):
    """The actor's role or city may not take this decision."""

    rule = "not_permitted"


class PhaseClosed(DomainError):
    """The decision falls outside the phase window that gates it."""

    rule = "phase_closed"


class InvalidTransition(DomainError):
    """The contestant's current state does not allow the move."""

    rule = "invalid_transition"


class GroupNotAllowed(DomainError):
    """The group cannot enter through this channel (trainees only by recommendation)."""

    rule = "group_not_allowed"


class AgeNotAllowed(DomainError):
    """The person's age at nomination is outside the group's age rule."""

    rule = "age_not_allowed"


class QuotaFull(DomainError):
    rule = "quota_full"


class GroupCapReached(DomainError):
    rule = "group_cap_reached"


class DuplicatePerson(DomainError):
    rule = "duplicate_person"


class DuplicateAccount(DomainError):
    rule = "duplicate_account"


class TeamFull(DomainError):
    rule = "team_full"


class TeamIncomplete(DomainError):
    """A finals team lacks its leader, its assistant or 4 to 6 streamers."""

    rule = "team_incomplete"


class TeamCityMismatch(DomainError):
    rule = "team_city_mismatch"


class InvalidTimeline(DomainError):
    rule = "invalid_timeline"


class VersionConflict(DomainError):
    """The caller expected an earlier version than the one stored."""

    rule = "version_conflict"


class OutOfOrder(DomainError):
    """A decision dated before the aggregate's last recorded one: history is not rewritten."""

    rule = "out_of_order"


class AlreadyErased(DomainError):
    """The contestant's personal data were erased before."""

    rule = "already_erased"


class RetentionRefused(DomainError):
    """The retention policy cannot be set so (carried out already, due in the past, unchanged)."""

    rule = "retention_refused"
