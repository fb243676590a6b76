"""The roster: one row per contestant, personal numbers masked, filtered and paged for staff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from uuid import UUID

from domain.contestant import Contestant
from domain.events import ERASED
from domain.lifecycle import Status
from domain.values import mask_id_number, mask_mobile
from projections.base import Handler, Handlers, ViewProjection
from projections.ordering import name_order
from projections.sealing import Sealer
from projections.store import Row, Tx, ViewDatabase

RosterSort = Literal["name", "time"]


@dataclass(frozen=True)
class RosterRow:
    contestant_id: UUID
    campaign_id: UUID
    city: str
    group: str
    channel: str
    name: str
    id_number: str  # masked, e.g. 420102********1234
    mobile: str  # masked, e.g. 138****5678
    platform: str
    account: str
    followers: int
    status: str
    training_account: str | None
    results: dict[str, float] | None
    team_role: str | None
    award: str | None
    nominated_at: str
    changed_at: str
    version: int
    experience: str = "无"
    notes: str = ""  # the bureau's own 备注

    @classmethod
    def of(cls, row: Row, sealer: Sealer) -> RosterRow:
        return cls(
            contestant_id=UUID(row["contestant_id"]),
            campaign_id=UUID(row["campaign_id"]),
            city=row["city"],
            group=row["grp"],
            channel=row["channel"],
            name=str(sealer.open(row["name"])),
            id_number=row["id_masked"],
            mobile=row["mobile_masked"],
            platform=row["platform"],
            account=str(sealer.open(row["account"])),
            followers=int(row["followers"]),
            status=row["status"],
            training_account=sealer.open(row["training_account"]),
            results=json.loads(row["results"]) if row["results"] else None,
            team_role=row["team_role"],
            award=row["award"],
            nominated_at=row["nominated_at"],
            changed_at=row["changed_at"],
            version=int(row["version"]),
            experience=str(sealer.open(row["experience"]) or "无"),
            notes=str(sealer.open(row["notes"]) or ""),
        )


@dataclass(frozen=True)
class RosterPage:
    rows: list[RosterRow]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class RegistrationCount:
    utc_hour: str  # "2021-05-25T02": the nomination's hour in UTC
    platform: str
    group: str
    channel: str
    status: str
    count: int


class RosterView(ViewProjection):
    name = "roster"
    version = 2  # 2: erasure purges the free text too
    seals = True
    tables = {  # noqa: RUF012 - class-level table definitions
        "roster": "contestant_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, city TEXT NOT NULL, "
        "grp TEXT NOT NULL, channel TEXT NOT NULL, name TEXT NOT NULL, id_masked TEXT NOT NULL, "
        "mobile_masked TEXT NOT NULL, platform TEXT NOT NULL, account TEXT NOT NULL, "
        "account_folded TEXT NOT NULL, name_index TEXT, name_sort TEXT, followers BIGINT NOT NULL, "
        "status TEXT NOT NULL, "
        "training_account TEXT, results TEXT, team_role TEXT, award TEXT, "
        "nominated_at TEXT NOT NULL, changed_at TEXT NOT NULL, version BIGINT NOT NULL, "
        "experience TEXT, notes TEXT",
    }
    indexes = {  # noqa: RUF012
        "ix_view_roster_name": ("roster", "campaign_id, name_sort, contestant_id"),
        "ix_view_roster_time": ("roster", "campaign_id, changed_at, contestant_id"),
        "ix_view_roster_name_index": ("roster", "name_index"),
        "ix_view_roster_account": ("roster", "account_folded"),
        "ix_view_roster_city": ("roster", "campaign_id, city, grp, status"),
    }

    #: What a later event of the same class and contestant writes over entirely, columns that
    #: no handler reads back: a replay up to an instant may apply only the last of them. A score
    #: recorded again sets the status, results, change instant and version once more.
    overwritten_by_next: ClassVar[frozenset[type[Contestant.Event]]] = frozenset({Contestant.Competed})

    def __init__(
        self, db: ViewDatabase, *, suffix: str = "", name_orders: dict[str, str] | None = None
    ) -> None:
        """``name_orders``: a name -> pinyin sort key memo shared by views built again and again
        from the same events (the as-of replays), as pinyin is the dearest part of a nomination."""
        self._names: dict[str, str] = {}  # contestant id -> sort key of the opened sealed name
        self._name_orders = name_orders
        super().__init__(db, suffix=suffix)

    def handlers(self) -> Handlers:
        return (
            Handlers()
            .on(Contestant.Nominated, self._nominated)
            .on(Contestant.Verified, self._status(Status.VERIFIED))
            .on(Contestant.Rejected, self._status(Status.REJECTED))
            .on(Contestant.Reconsidered, self._status(Status.NOMINATED))
            .on(Contestant.Renominated, self._renominated)
            .on(Contestant.TrainingAccountAssigned, self._training_account)
            .on(Contestant.Trained, self._status(Status.TRAINED))
            .on(Contestant.Competed, self._competed)
            .on(Contestant.Advanced, self._advanced)
            .on(Contestant.Awarded, self._awarded)
            .on(Contestant.Withdrawn, self._left(Status.WITHDRAWN))
            .on(Contestant.Disqualified, self._left(Status.DISQUALIFIED))
            .on(Contestant.Erased, self._erased)
        )

    def _nominated(self, tx: Tx, e: Contestant.Nominated) -> None:
        person, seal = e.person, self.sealer
        name, account = person.name, person.account
        # sealed: whole-value digests to search by; plain: the text itself, for substrings
        found_by = (seal.index(account), seal.index(name)) if seal.enabled else (account.casefold(), None)
        # A pinyin key would spell a sealed name out: sealed names are sorted once opened.
        sort_key = None if seal.enabled else self._name_order(name)
        at = self.text.at
        tx.insert(
            self.t["roster"],
            {
                "contestant_id": self.text.id,
                "campaign_id": str(e.campaign_id),
                "city": person.city,
                "grp": person.group.value,
                "channel": e.channel,
                "name": seal.seal(name),
                "id_masked": ERASED if person.is_erased else mask_id_number(person.id_number),
                "mobile_masked": ERASED if person.is_erased else mask_mobile(person.mobile),
                "platform": person.platform.value,
                "account": seal.seal(account),
                "account_folded": found_by[0],
                "name_index": found_by[1],
                "name_sort": sort_key,
                "followers": person.followers,
                "status": Status.NOMINATED.value,
                "nominated_at": at,
                "changed_at": at,
                "version": e.originator_version,
                "experience": seal.seal(person.experience),
                "notes": seal.seal(person.notes),
            },
            row=("roster", self.text.id),
        )

    def _renominated(self, tx: Tx, e: Contestant.Renominated) -> None:
        """Back as nominated, with the details of this nomination (name, city and group as before)."""
        person, seal = e.person, self.sealer
        account = person.account
        self._update(
            tx,
            e,
            Status.NOMINATED,
            {
                "channel": e.channel,
                "id_masked": ERASED if person.is_erased else mask_id_number(person.id_number),
                "mobile_masked": ERASED if person.is_erased else mask_mobile(person.mobile),
                "account": seal.seal(account),
                "account_folded": seal.index(account) if seal.enabled else account.casefold(),
                "followers": person.followers,
                "experience": seal.seal(person.experience),
                "notes": seal.seal(person.notes),
                "training_account": None,
                "results": None,
                "team_role": None,
                "award": None,
            },
        )

    def _erased(self, tx: Tx, e: Contestant.Erased) -> None:
        """Who the person was goes from the row; statuses, city, group and scores stay."""
        seal = self.sealer
        tx.shred()
        tx.change_one(
            self.sql(
                "UPDATE {roster} SET name = ?, id_masked = ?, mobile_masked = ?, account = ?, "
                "account_folded = ?, name_index = NULL, training_account = NULL, experience = ?, notes = ?, "
                "changed_at = ?, version = ? WHERE contestant_id = ?"
            ),
            (
                seal.seal(ERASED),
                ERASED,
                ERASED,
                seal.seal(ERASED),
                "",
                seal.seal(ERASED),
                seal.seal(ERASED),
                self.text.at,
                e.originator_version,
                self.text.id,
            ),
            f"roster: contestant {self.text.id} has no row to erase",
            row=("roster", self.text.id),
        )

    def _update(
        self, tx: Tx, e: Contestant.Event, status: Status, extra: dict[str, Any] | None = None
    ) -> None:
        tx.update(
            self.t["roster"],
            {
                "status": status.value,
                **(extra or {}),
                "changed_at": self.text.at,
                "version": e.originator_version,
            },
            {"contestant_id": self.text.id},
            f"roster: contestant {self.text.id} has no row to update",
            row=("roster", self.text.id),
        )

    def _status(self, status: Status) -> Handler[Contestant.Event]:
        return lambda tx, e: self._update(tx, e, status)

    def _left(self, status: Status) -> Handler[Contestant.Event]:
        return lambda tx, e: self._update(tx, e, status, {"team_role": None})

    def _training_account(self, tx: Tx, e: Contestant.TrainingAccountAssigned) -> None:
        self._update(tx, e, Status.ENROLLED, {"training_account": self.sealer.seal(e.training_account)})

    def _competed(self, tx: Tx, e: Contestant.Competed) -> None:
        self._update(tx, e, Status.COMPETED, {"results": json.dumps(e.results, sort_keys=True)})

    def _advanced(self, tx: Tx, e: Contestant.Advanced) -> None:
        self._update(tx, e, Status.ADVANCED, {"team_role": e.team_role})

    def _awarded(self, tx: Tx, e: Contestant.Awarded) -> None:
        """A person may receive several awards: the column lists them, 、 between."""
        tx.change_one(
            self.sql(
                "UPDATE {roster} SET status = ?, award = CASE WHEN award IS NULL THEN ? "
                "ELSE award || '、' || ? END, changed_at = ?, version = ? WHERE contestant_id = ?"
            ),
            (
                Status.AWARDED.value,
                e.award,
                e.award,
                self.text.at,
                e.originator_version,
                self.text.id,
            ),
            f"roster: contestant {self.text.id} has no row to update",
            row=("roster", self.text.id),
        )

    # --- queries -------------------------------------------------------------

    def get(self, contestant_id: UUID) -> RosterRow | None:
        with self.reading() as tx:
            row = tx.fetchone(
                self.sql("SELECT * FROM {roster} WHERE contestant_id = ?"), (str(contestant_id),)
            )
        return None if row is None else RosterRow.of(row, self.sealer)

    def names(self, campaign_id: UUID) -> dict[str, str]:
        """Contestant id -> name, for exports that show a person where the log has an id."""
        with self.reading() as tx:
            statement = self.sql("SELECT contestant_id, name FROM {roster} WHERE campaign_id = ?")
            rows = tx.fetchall(statement, (str(campaign_id),))
        return {r["contestant_id"]: str(self.sealer.open(r["name"])) for r in rows}

    def query(
        self,
        campaign_id: UUID,
        *,
        city: str | None = None,
        group: str | None = None,
        status: str | None = None,
        platform: str | None = None,
        search: str | None = None,
        sort: RosterSort = "name",
        descending: bool = False,
        page: int = 1,
        page_size: int = 50,
    ) -> RosterPage:
        """One page; ties are broken by contestant id, so pages neither overlap nor skip rows."""
        if page < 1 or not 1 <= page_size <= 1000:
            raise ValueError("page starts at 1 and page_size is 1 to 1000")
        where = ["campaign_id = ?"]
        params: list[Any] = [str(campaign_id)]
        for column, value in (("city", city), ("grp", group), ("status", status), ("platform", platform)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if search and search.strip():
            if self.sealer.enabled:
                where.append("(name_index = ? OR account_folded = ?)")
                params += [self.sealer.index(search), self.sealer.index(search)]
            else:
                pattern = "%" + _escape_like(search.strip()) + "%"
                where.append("(name LIKE ? ESCAPE '!' OR account_folded LIKE ? ESCAPE '!')")
                params += [pattern, pattern.casefold()]
        clause = " AND ".join(where)
        if sort == "name" and self.sealer.enabled:
            return self._sorted_by_sealed_name(clause, params, descending, page, page_size)
        direction = "DESC" if descending else "ASC"
        key = "name_sort" if sort == "name" else "changed_at"
        with self.reading() as tx:
            counted = tx.fetchone(self.sql("SELECT COUNT(*) AS n FROM {roster} WHERE ") + clause, params)
            rows = tx.fetchall(
                self.sql("SELECT * FROM {roster} WHERE ")
                + clause
                + f" ORDER BY {key} {direction}, contestant_id {direction} LIMIT ? OFFSET ?",
                [*params, page_size, (page - 1) * page_size],
            )
        total = int(counted["n"]) if counted else 0
        return RosterPage([RosterRow.of(r, self.sealer) for r in rows], total, page, page_size)

    def every(
        self, campaign_id: UUID, *, city: str | None = None, group: str | None = None
    ) -> list[RosterRow]:
        """Every matching row in the order of a page sorted by name, read 1,000 at a time."""
        rows: list[RosterRow] = []
        page = 1
        while True:
            found = self.query(campaign_id, city=city, group=group, page=page, page_size=1000)
            rows += found.rows
            if len(rows) >= found.total or not found.rows:
                return rows
            page += 1

    def registrations(self, campaign_id: UUID) -> list[RegistrationCount]:
        """How many registered, by UTC hour of nomination, platform, group, channel and status.

        No person is named: only counts leave, for the leadership dashboard's splits.
        """
        with self.reading() as tx:
            rows = tx.fetchall(
                self.sql(
                    "SELECT substr(nominated_at, 1, 13) AS hour, platform, grp, channel, status, "
                    "COUNT(*) AS n FROM {roster} WHERE campaign_id = ? "
                    "GROUP BY substr(nominated_at, 1, 13), platform, grp, channel, status"
                ),
                (str(campaign_id),),
            )
        return [
            RegistrationCount(r["hour"], r["platform"], r["grp"], r["channel"], r["status"], int(r["n"]))
            for r in rows
        ]

    def _name_order(self, name: str) -> str:
        memo = self._name_orders
        if memo is None:
            return name_order(name)
        key = memo.get(name)
        if key is None:
            key = memo[name] = name_order(name)
        return key

    def _name(self, row: Row) -> str:
        """A sealed name's pinyin sort key, opened once per process: names never change."""
        key = self._names.get(row["contestant_id"])
        if key is None:
            key = self._names[row["contestant_id"]] = name_order(str(self.sealer.open(row["name"])))
        return key

    def _sorted_by_sealed_name(
        self, clause: str, params: list[Any], descending: bool, page: int, page_size: int
    ) -> RosterPage:
        """Sealed names sort only once opened: every match's name is read, one page's rows after."""
        with self.reading() as tx:
            names = tx.fetchall(self.sql("SELECT contestant_id, name FROM {roster} WHERE ") + clause, params)
            keys = sorted(
                ((name_order(self._name(r)), r["contestant_id"]) for r in names), reverse=descending
            )
            wanted = [cid for _, cid in keys[(page - 1) * page_size : page * page_size]]
            rows = (
                tx.fetchall(
                    self.sql("SELECT * FROM {roster} WHERE contestant_id IN (")
                    + ",".join("?" * len(wanted))
                    + ")",
                    wanted,
                )
                if wanted
                else []
            )
        order = {cid: n for n, cid in enumerate(wanted)}
        rows.sort(key=lambda r: order[r["contestant_id"]])
        return RosterPage([RosterRow.of(r, self.sealer) for r in rows], len(keys), page, page_size)


def _escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
