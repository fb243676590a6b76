"""Who may read what of a contestant, and the record of every read of personal data."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotPermitted
from domain.values import Actor, Role, parse_city

_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.JUDGE, Role.CITY_STAFF})
_HISTORY_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.CITY_STAFF})
_PERSONAL_DATA_READERS = frozenset({Role.ADMIN, Role.CITY_STAFF})


def _require(actor: Actor, roles: frozenset[Role], city: str, action: str) -> None:
    if actor.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        raise NotPermitted(f"{action}: the role {actor.role} may not do this (allowed: {allowed})")
    if actor.role is Role.CITY_STAFF and actor.city != city:
        raise NotPermitted(
            f"{action}: staff of {actor.city} may read only their own city's people, not {city}"
        )


def may_read(actor: Actor, city: str) -> bool:
    """Whether ``actor`` may read a contestant of ``city`` at all (masked)."""
    return actor.role in _READERS and (actor.role is not Role.CITY_STAFF or actor.city == city)


def require_may_read(actor: Actor, city: str) -> None:
    """Masked contestant records: organisers, auditors, judges and the city's own staff."""
    _require(actor, _READERS, city, "read contestant")


def require_may_read_history(actor: Actor, city: str) -> None:
    _require(actor, _HISTORY_READERS, city, "read history")


def personal_data_log_id(contestant_id: UUID) -> UUID:
    return uuid5(contestant_id, "personal-data-reads")


class PersonalDataLog(Aggregate):
    """Every read of one contestant's ID and mobile numbers, granted or refused: who, when, which fields."""

    class PersonalDataLogOpened(Aggregate.Created):
        contestant_id: UUID

        class_version = 1

    class PersonalDataRead(Aggregate.Event):
        """:ivar fields: the personal fields shown unmasked (``id_number``, ``mobile``)."""

        actor: Actor
        fields: list[str]

        class_version = 1

    class PersonalDataReadRefused(Aggregate.Event):
        """:ivar rule: the rule that refused the read (the fields were not shown)."""

        actor: Actor
        fields: list[str]
        rule: str

        class_version = 1

    @staticmethod
    def create_id(contestant_id: UUID) -> UUID:
        return personal_data_log_id(contestant_id)

    @event(PersonalDataLogOpened)
    def __init__(self, contestant_id: UUID, timestamp: datetime) -> None:
        self.contestant_id = contestant_id
        self.reads: list[dict[str, object]] = []
        self.refusals: list[dict[str, object]] = []

    def read(self, *, city: str, fields: list[str], actor: Actor, at: datetime) -> None:
        """Decide whether ``actor`` may see the personal data, and record that they did.

        A refused read is recorded too (``PersonalDataReadRefused``, with the refusing rule)
        before the refusal is raised: asking is itself what an auditor wants to see.
        """
        try:
            _require(actor, _PERSONAL_DATA_READERS, city, "read personal data")
        except NotPermitted as refusal:
            self._refused(actor=actor, fields=list(fields), rule=refusal.rule, timestamp=at)
            raise
        self._read(actor=actor, fields=list(fields), timestamp=at)

    @event(PersonalDataRead)
    def _read(self, actor: Actor, fields: list[str], timestamp: datetime) -> None:
        self.reads.append(_reading(actor, fields, timestamp))

    @event(PersonalDataReadRefused)
    def _refused(self, actor: Actor, fields: list[str], rule: str, timestamp: datetime) -> None:
        self.refusals.append({**_reading(actor, fields, timestamp), "rule": rule})


def _reading(actor: Actor, fields: list[str], at: datetime) -> dict[str, object]:
    return {"user": actor.user, "role": actor.role.value, "city": actor.city, "fields": fields, "at": at}


def may_read_audit(actor: Actor) -> bool:
    """Organisers and auditors read the audit trail, the reads of personal data included."""
    return actor.role in _AUDIT_READERS


_REPORT_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.JUDGE, Role.CITY_STAFF, Role.LEADER})
_AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})


def roster_city(actor: Actor, asked: str | None) -> str | None:
    """The city a roster read is limited to: city staff see only their own; None means all."""
    asked = parse_city(asked) if asked is not None else None  # an unknown city is a mistake, not "none"
    if actor.role not in _READERS:
        allowed = ", ".join(sorted(role.value for role in _READERS))
        raise NotPermitted(f"read roster: the role {actor.role} may not do this (allowed: {allowed})")
    if actor.role is not Role.CITY_STAFF:
        return asked
    if asked is not None and asked != actor.city:
        raise NotPermitted(f"read roster: staff of {actor.city} may read only their own city, not {asked}")
    return actor.city


def require_may_read_reports(actor: Actor) -> None:
    """Aggregated reports (quotas, funnel, teams, schedule): every staff role, leadership included."""
    _require(actor, _REPORT_READERS, actor.city or "", "read reports")


def require_may_read_audit(actor: Actor) -> None:
    _require(actor, _AUDIT_READERS, actor.city or "", "read the audit trail")


def sees_names(actor: Actor) -> bool:
    """Leadership reads aggregates only: no person's name reaches them."""
    return actor.role is not Role.LEADER
