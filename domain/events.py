"""What the declared events share: the decision they record, and the person a nomination names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

from domain.decision import Decision
from domain.values import Group, Platform


class DecisionEvent(Aggregate.Event):
    """A fact somebody decided.

    :ivar decision: who decided, why, on what evidence, under which rule version.
    """

    decision: Decision


@dataclass(frozen=True)
class PersonRecord:
    """What a nomination records of the person (附件2's row), as stored in ``Nominated``.

    :ivar unit: the recommending unit (推荐单位); None for self-registration.
    :ivar contact: the recommending unit's contact person (联系人).
    """

    name: str
    mobile: str
    city: str
    group: Group
    platform: Platform
    account: str
    followers: int
    experience: str
    notes: str
    unit: str | None = None
    contact: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mobile": self.mobile,
            "city": self.city,
            "group": self.group.value,
            "platform": self.platform.value,
            "account": self.account,
            "followers": self.followers,
            "experience": self.experience,
            "notes": self.notes,
            "unit": self.unit,
            "contact": self.contact,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PersonRecord:
        return cls(
            name=data["name"],
            mobile=data["mobile"],
            city=data["city"],
            group=Group(data["group"]),
            platform=Platform(data["platform"]),
            account=data["account"],
            followers=int(data["followers"]),
            experience=data["experience"],
            notes=data["notes"],
            unit=data.get("unit"),
            contact=data.get("contact"),
        )
