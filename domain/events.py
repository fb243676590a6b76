"""What the declared events share: the decision they record, and the person a nomination names."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.decision import Decision
from domain.values import Group, Platform


class DecisionEvent(Aggregate.Event):
    """A fact somebody decided.

    :ivar decision: who decided, why, on what evidence, under which rule version.
    """

    decision: Decision


class DecisionCreated(Aggregate.Created, DecisionEvent):
    """An aggregate's first fact, decided by somebody: a launch, a nomination, a user made."""


#: What erased personal fields read as, in the record, the views and every answer.
ERASED = "已删除"


@dataclass(frozen=True)
class PersonRecord:
    """What a nomination records of the person (附件2's row), as stored in ``Nominated``.

    Stored sealed under the contestant's own data key (``application/person_keys.py``).

    :ivar unit: the recommending unit (推荐单位); None for self-registration.
    :ivar contact: the recommending unit's contact person (联系人).
    """

    name: str
    id_number: str
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

    #: The fields that identify or describe the person, sealed at rest; the others (city,
    #: group, platform, followers, unit) stay readable, so counts survive an erasure.
    PERSONAL: ClassVar[tuple[str, ...]] = (
        "name",
        "id_number",
        "mobile",
        "account",
        "experience",
        "notes",
        "contact",
    )

    def personal(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PERSONAL}

    def erased(self) -> PersonRecord:
        """The record once its contestant's key is destroyed: nothing personal is left."""
        return replace(
            self,
            name=ERASED,
            id_number=ERASED,
            mobile=ERASED,
            account=ERASED,
            experience=ERASED,
            notes=ERASED,
            contact=None if self.contact is None else ERASED,
        )

    @property
    def is_erased(self) -> bool:
        return self.name == ERASED and self.id_number == ERASED

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id_number": self.id_number,
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
            id_number=data["id_number"],
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
