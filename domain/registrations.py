"""Self-registrations that repeat an existing contestant: kept for the organisers to review.

An anonymous registrant is answered alike whether the registration was taken or repeats a
registered ID number or a claimed account, so the answer reveals no one's membership; the
repeat is recorded here instead, on the audit trail, where staff see and follow it up.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import datetime
from typing import TypedDict
from uuid import NAMESPACE_OID, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.decision import Decision, DecisionContext
from domain.events import DecisionCreated
from domain.values import Person, Platform

RECEIVED = "已收到报名，审核后通知结果"


def receipt_of(contestant_id: UUID, key: bytes) -> UUID:
    """The receipt a taken registration is answered with, keyed so only the service can make it.

    Shaped as a random UUIDv4, like a repeat's own id, so no digit of it tells a taken
    registration from a repeat; without ``key`` nobody derives it from the contestant id.
    """
    digest = hmac.new(key, f"zhanyou receipt:{contestant_id}".encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


def unkeyed_receipt_of(contestant_id: UUID) -> UUID:
    """The receipt a taken registration was answered with before receipts were keyed (a UUIDv5).

    Still honoured at the status look-up, so a registrant keeps the receipt they were given;
    no longer handed out, as its version digit told a taken registration from a repeat.
    """
    return uuid5(NAMESPACE_OID, f"zhanyou receipt:{contestant_id}")


def repeat_reason(rule: str, platform: str, matches: UUID | None) -> str:
    """Why a registration is a repeat, in words for the clerks who follow it up.

    The rule's code (``duplicate_person``, ``duplicate_account``) is the event's own field;
    events recorded before this text wrote it inside the reason, so the trail shows this text
    for every repeat, built from the event's fields, whatever reason the event carries.
    """
    what = (
        "身份证号已报名" if rule == "duplicate_person" else f"{Platform(platform).title}账号已被其他选手使用"
    )
    return f"重复报名：{what}" + (f"，对应选手 {matches}" if matches else "")


class RepeatedPerson(TypedDict):
    """What a repeated registration keeps of the form, besides the ID number."""

    name: str
    mobile: str
    city: str
    group: str  # a ``Group`` value
    platform: str  # a ``Platform`` value
    account: str


class DuplicateRegistration(Aggregate):
    """One repeated registration (its id, random, is the registrant's receipt)."""

    class RegistrationDuplicated(DecisionCreated):
        """A registration that repeats a registered ID number or a claimed account.

        :ivar rule: ``duplicate_person`` or ``duplicate_account``.
        :ivar matches: the contestant it repeats.
        """

        campaign_id: UUID
        rule: str
        matches: UUID | None
        id_number: str
        person: RepeatedPerson

        class_version = 1

    @classmethod
    def record(
        cls,
        context: DecisionContext,
        *,
        campaign_id: UUID,
        person: Person,
        rule: str,
        matches: UUID | None,
        rule_version: int,
    ) -> DuplicateRegistration:
        """``rule``: ``duplicate_person`` or ``duplicate_account``; ``matches``: the contestant repeated.

        The registration's context decides; the rule it repeats is the reason.
        """
        # Nothing personal in the reason: it outlives the data keys; who repeated is in the
        # person fields, sealed under the key of the contestant repeated.
        reason = repeat_reason(rule, person.account.platform.value, matches)
        return cls(
            campaign_id=campaign_id,
            rule=rule,
            matches=matches,
            id_number=person.id_number.value,
            person={
                "name": person.name,
                "mobile": person.mobile.value,
                "city": person.city,
                "group": person.group.value,
                "platform": person.account.platform.value,
                "account": person.account.handle,
            },
            decision=replace(context, reason=reason).recorded(rule_version),
            timestamp=context.at,
        )

    @event(RegistrationDuplicated)
    def __init__(
        self,
        campaign_id: UUID,
        rule: str,
        matches: UUID | None,
        id_number: str,
        person: RepeatedPerson,
        decision: Decision,
        timestamp: datetime,
    ) -> None:
        self.campaign_id = campaign_id
        self.rule = rule
        self.matches = matches
        self.id_number = id_number
        self.person = person
