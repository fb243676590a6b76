"""How our value objects are written into stored events (and read back, years later)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from domain.decision import Decision
from domain.events import PersonRecord
from domain.values import Actor, Role


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return {"user": obj.user, "role": obj.role.value, "city": obj.city}

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(user=data["user"], role=Role(data["role"]), city=data.get("city"))


class DecisionAsDict(Transcoding):
    type = Decision
    name = "decision"

    def encode(self, obj: Decision) -> dict[str, Any]:
        return {
            "actor": obj.actor,
            "rule_version": obj.rule_version,
            "reason": obj.reason,
            "evidence": obj.evidence,
            "command_id": obj.command_id,
        }

    def decode(self, data: dict[str, Any]) -> Decision:
        return Decision(
            actor=data["actor"],
            rule_version=data["rule_version"],
            reason=data.get("reason"),
            evidence=data.get("evidence"),
            command_id=data.get("command_id"),
        )


class PersonRecordAsDict(Transcoding):
    type = PersonRecord
    name = "person_record"

    def encode(self, obj: PersonRecord) -> dict[str, Any]:
        return obj.to_data()

    def decode(self, data: dict[str, Any]) -> PersonRecord:
        return PersonRecord.from_data(data)
