"""City finals teams: leader, assistant, streamers, whether complete, and their finals entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.contestant import Contestant
from domain.events import ERASED
from domain.team import CityTeam, TeamRole, completeness_gaps
from projections.base import Handlers, ViewProjection
from projections.ordering import city_order
from projections.store import Tx


@dataclass(frozen=True)
class Member:
    contestant_id: UUID
    name: str | None


@dataclass(frozen=True)
class TeamRow:
    city: str
    leader_name: str | None
    leader_user: str | None
    assistant: Member | None
    streamers: list[Member]
    changed_at: str
    finals: str | None = None  # "entered", "overridden" (incomplete, by an organiser), or not yet
    awards: str | None = None  # team prizes, 、 between
    version: int = 1  # the team's, as of its last event here: what a decision's If-Match names

    @property
    def gaps(self) -> list[str]:
        return completeness_gaps(
            self.leader_name is not None, 1 if self.assistant else 0, len(self.streamers)
        )

    @property
    def complete(self) -> bool:
        """1 leader, 1 assistant and 4 to 6 streamers."""
        return not self.gaps


class TeamsView(ViewProjection):
    name = "teams"
    seals = True
    tables = {  # noqa: RUF012
        "teams": "team_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, city TEXT NOT NULL, "
        "leader_name TEXT, leader_user TEXT, finals TEXT, awards TEXT, changed_at TEXT NOT NULL, "
        "version INTEGER NOT NULL",
        "team_members": "team_id TEXT NOT NULL, contestant_id TEXT NOT NULL, role TEXT NOT NULL, "
        "PRIMARY KEY (team_id, contestant_id)",
        "team_people": "contestant_id TEXT PRIMARY KEY, name TEXT NOT NULL",
    }
    indexes = {"ix_view_teams_campaign": ("teams", "campaign_id, city")}  # noqa: RUF012

    def handlers(self) -> Handlers:
        return (
            Handlers()
            .on(CityTeam.TeamFormed, self._formed)
            .on(CityTeam.MemberAdded, self._added)
            .on(CityTeam.MemberRemoved, self._removed)
            .on(CityTeam.LeaderAppointed, self._leader)
            .on(CityTeam.FinalsEntered, self._finals)
            .on(CityTeam.TeamAwarded, self._awarded)
            .on(Contestant.Nominated, self._person)
            .on(Contestant.Erased, self._erased)
        )

    def _formed(self, tx: Tx, e: CityTeam.TeamFormed) -> None:
        tx.insert(
            self.t["teams"],
            {
                "team_id": self.text.id,
                "campaign_id": str(e.campaign_id),
                "city": e.city,
                "changed_at": self.text.at,
                "version": e.originator_version,
            },
            row=("teams", self.text.id),
        )

    def _touch(self, tx: Tx, e: CityTeam.Event) -> None:
        tx.update(
            self.t["teams"],
            {"changed_at": self.text.at, "version": e.originator_version},
            {"team_id": self.text.id},
            f"teams: team {self.text.id} was never formed",
            row=("teams", self.text.id),
        )

    def _added(self, tx: Tx, e: CityTeam.MemberAdded) -> None:
        self._touch(tx, e)
        tx.insert(
            self.t["team_members"],
            {"team_id": self.text.id, "contestant_id": e.contestant_id, "role": e.role},
            row=("team_members", self.text.id, e.contestant_id),
        )

    def _removed(self, tx: Tx, e: CityTeam.MemberRemoved) -> None:
        self._touch(tx, e)
        tx.write(
            self.sql("DELETE FROM {team_members} WHERE team_id = ? AND contestant_id = ?"),
            (self.text.id, e.contestant_id),
            row=("team_members", self.text.id, e.contestant_id),
        )

    def _leader(self, tx: Tx, e: CityTeam.LeaderAppointed) -> None:
        self._touch(tx, e)
        tx.write(
            self.sql("UPDATE {teams} SET leader_name = ?, leader_user = ? WHERE team_id = ?"),
            (self.sealer.seal(e.name), e.staff_user, self.text.id),
            row=("teams", self.text.id),
        )

    def _finals(self, tx: Tx, e: CityTeam.FinalsEntered) -> None:
        self._touch(tx, e)
        tx.write(
            self.sql("UPDATE {teams} SET finals = ? WHERE team_id = ?"),
            ("overridden" if e.overridden else "entered", self.text.id),
            row=("teams", self.text.id),
        )

    def _awarded(self, tx: Tx, e: CityTeam.TeamAwarded) -> None:
        self._touch(tx, e)
        tx.write(
            self.sql(
                "UPDATE {teams} SET awards = CASE WHEN awards IS NULL THEN ? ELSE awards || '、' || ? END "
                "WHERE team_id = ?"
            ),
            (e.award, e.award, self.text.id),
            row=("teams", self.text.id),
        )

    def _person(self, tx: Tx, e: Contestant.Nominated) -> None:
        tx.insert(
            self.t["team_people"],
            {"contestant_id": self.text.id, "name": self.sealer.seal(e.person.name)},
            row=("team_people", self.text.id),
        )

    def _erased(self, tx: Tx, e: Contestant.Erased) -> None:
        tx.shred()
        tx.change_one(
            self.sql("UPDATE {team_people} SET name = ? WHERE contestant_id = ?"),
            (self.sealer.seal(ERASED), self.text.id),
            f"teams: contestant {self.text.id} has no person to erase",
            row=("team_people", self.text.id),
        )

    def _member(self, row: dict[str, Any]) -> Member:
        return Member(UUID(row["contestant_id"]), self.sealer.open(row["name"]))

    def teams(self, campaign_id: UUID) -> list[TeamRow]:
        with self.reading() as tx:
            teams = tx.fetchall(
                self.sql("SELECT * FROM {teams} WHERE campaign_id = ? ORDER BY city"), (str(campaign_id),)
            )
            members = tx.fetchall(
                self.sql(
                    "SELECT m.team_id, m.contestant_id, m.role, p.name FROM {team_members} m "
                    "JOIN {teams} t ON t.team_id = m.team_id "
                    "LEFT JOIN {team_people} p ON p.contestant_id = m.contestant_id "
                    "WHERE t.campaign_id = ? ORDER BY m.contestant_id"
                ),
                (str(campaign_id),),
            )
        by_team: dict[str, list[dict[str, Any]]] = {}
        for m in members:
            by_team.setdefault(m["team_id"], []).append(m)
        found = []
        for t in teams:
            mine = by_team.get(t["team_id"], [])
            assistants = [self._member(m) for m in mine if m["role"] == TeamRole.ASSISTANT]
            streamers = [self._member(m) for m in mine if m["role"] == TeamRole.STREAMER]
            found.append(
                TeamRow(
                    t["city"],
                    self.sealer.open(t["leader_name"]),
                    t["leader_user"],
                    assistants[0] if assistants else None,
                    streamers,
                    t["changed_at"],
                    t["finals"],
                    t["awards"],
                    t["version"],
                )
            )
        return sorted(found, key=lambda t: city_order(t.city))  # 附件1's order
