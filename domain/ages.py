"""Age rules per group: campaign settings, judged at the nomination's instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidValue
from domain.values import Group

ADULT = 18


@dataclass(frozen=True)
class AgeRule:
    """Whole years of age at the decision's day: at least ``min_age``, at most ``max_age``."""

    min_age: int | None = ADULT
    max_age: int | None = None

    def check(self, what: str) -> AgeRule:
        for bound in (self.min_age, self.max_age):
            if bound is not None and not 0 <= bound <= 150:
                raise InvalidValue("age_rules", f"{what}: an age bound is 0 to 150 years, not {bound}")
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            raise InvalidValue("age_rules", f"{what}: the oldest age is below the youngest")
        return self

    def refusal(self, born: date, on: date) -> str | None:
        """None when a person born on ``born`` is allowed on ``on``; else what they are instead."""
        age = age_on(born, on)
        if self.min_age is not None and age < self.min_age:
            return f"younger than {self.min_age}"
        if self.max_age is not None and age > self.max_age:
            return f"older than {self.max_age}"
        return None

    def describe(self) -> str:
        if self.min_age is not None and self.max_age is not None:
            return f"aged {self.min_age} to {self.max_age}"
        if self.min_age is not None:
            return f"aged {self.min_age} or over"
        if self.max_age is not None:
            return f"aged {self.max_age} or under"
        return "of any age"

    def to_data(self) -> dict[str, int | None]:
        return {"min_age": self.min_age, "max_age": self.max_age}

    @classmethod
    def from_data(cls, data: dict[str, int | None]) -> AgeRule:
        return cls(data.get("min_age"), data.get("max_age"))


def age_on(born: date, on: date) -> int:
    """Whole years completed on ``on``; someone born on 29 February turns a year older on 1 March."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def default_age_rules() -> dict[Group, AgeRule]:
    """Adults (18 or over at nomination) in every group, unless the campaign says otherwise."""
    return dict.fromkeys(Group, AgeRule())
