"""Award kinds and score bounds: campaign settings, checked by the deciding methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.errors import InvalidValue

DEFAULT_INDIVIDUAL = ("一等奖", "二等奖", "三等奖", "优秀奖")
DEFAULT_TEAM = ("优秀组织奖",)
DEFAULT_SCORE_MAX = 100.0


@dataclass(frozen=True)
class AwardRules:
    """Which prizes a person (individual) or a city's team may receive, and the score scale."""

    individual: tuple[str, ...] = DEFAULT_INDIVIDUAL
    team: tuple[str, ...] = DEFAULT_TEAM
    score_max: float = DEFAULT_SCORE_MAX  # each contest event is scored 0 to this

    def checked(self) -> AwardRules:
        kinds = [*self.individual, *self.team]
        if any(not kind.strip() or len(kind) > 50 for kind in kinds):
            raise InvalidValue("awards", "an award's name has 1 to 50 characters")
        if len(set(kinds)) != len(kinds):
            raise InvalidValue("awards", "an award's name appears twice")
        if not 0 < self.score_max <= 10_000:
            raise InvalidValue(
                "score_max", f"the highest score is above 0 and at most 10000, not {self.score_max}"
            )
        return self

    def require(self, kind: str, *, team: bool) -> str:
        allowed = self.team if team else self.individual
        name = kind.strip()
        if name not in allowed:
            what = "team" if team else "individual"
            raise InvalidValue(
                "award", f"{name!r} is not a {what} award of this campaign ({'、'.join(allowed)})"
            )
        return name

    def to_data(self) -> dict[str, object]:
        return {"individual": list(self.individual), "team": list(self.team), "score_max": self.score_max}

    @classmethod
    def from_data(cls, data: Mapping[str, object] | None) -> AwardRules:
        if not data:
            return cls()
        individual = data.get("individual")
        team = data.get("team")
        score_max = data.get("score_max")
        return cls(
            tuple(individual) if isinstance(individual, Sequence) else DEFAULT_INDIVIDUAL,
            tuple(team) if isinstance(team, Sequence) else DEFAULT_TEAM,
            float(score_max) if isinstance(score_max, int | float) else DEFAULT_SCORE_MAX,
        )
