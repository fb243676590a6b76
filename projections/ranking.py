"""Rankings from the contest scores, per city and group, to help a city pick its finals team.

The notice asks that trainees be emphasised (重点突出学员) when outstanding contestants are
picked, so within a city the trainee group comes first; then the veteran and family groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.values import Group
from projections.ordering import city_order, group_order, name_order
from projections.roster import RosterRow

RANKED_STATUSES = ("competed", "advanced", "awarded")


@dataclass(frozen=True)
class Ranked:
    rank: int  # 1, 1, 3: equal totals share a rank
    row: RosterRow
    total: float


@dataclass(frozen=True)
class Ranking:
    city: str
    group: Group
    entries: list[Ranked]


def total_of(row: RosterRow) -> float:
    return sum((row.results or {}).values())


def rankings(rows: Iterable[RosterRow]) -> list[Ranking]:
    """Active contestants with results, by total score (highest first), per city and group."""
    by_scope: dict[tuple[str, str], list[RosterRow]] = {}
    for row in rows:
        if row.results and row.status in RANKED_STATUSES:
            by_scope.setdefault((row.city, row.group), []).append(row)
    found = []
    for city, group in sorted(by_scope, key=lambda k: (city_order(k[0]), group_order(k[1]))):
        ordered = sorted(by_scope[(city, group)], key=lambda r: (-total_of(r), name_order(r.name)))
        entries: list[Ranked] = []
        for position, row in enumerate(ordered, start=1):
            total = total_of(row)
            shared = entries and entries[-1].total == total
            entries.append(Ranked(entries[-1].rank if shared else position, row, total))
        found.append(Ranking(city, Group(group), entries))
    return found
