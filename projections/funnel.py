"""The funnel: per campaign, city and group, how many reached each stage and how many left."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.contestant import Contestant
from domain.values import Group
from projections.base import Handler, Handlers, ViewProjection
from projections.ordering import city_order, group_order
from projections.store import Tx

_STAGE_EVENTS = (
    Contestant.Verified,
    Contestant.Trained,
    Contestant.Competed,
    Contestant.Advanced,
    Contestant.Awarded,
)
_EXIT_EVENTS = (Contestant.Rejected, Contestant.Withdrawn, Contestant.Disqualified)
#: The column counting contestants who reached (or left at) each step, named after its event.
_FLAGS = {kind: kind.__name__.lower() for kind in (*_STAGE_EVENTS, *_EXIT_EVENTS)}
STAGES = ("nominated", *(_FLAGS[kind] for kind in _STAGE_EVENTS))
EXITS = tuple(_FLAGS[kind] for kind in _EXIT_EVENTS)


@dataclass(frozen=True)
class FunnelRow:
    city: str
    group: str
    reached: dict[str, int]  # stage -> contestants who ever reached it
    left: dict[str, int]  # rejected / withdrawn / disqualified -> contestants
    finalists: int  # reached "advanced" and neither withdrew nor was disqualified


@dataclass(frozen=True)
class Funnel:
    rows: list[FunnelRow]
    finalists: int
    trainee_finalists: int

    @property
    def trainee_share(self) -> float | None:
        """The share of trainees among finalists (the notice emphasises them); None without finalists."""
        return self.trainee_finalists / self.finalists if self.finalists else None

    def total(self, stage: str) -> int:
        return sum(r.reached.get(stage, 0) + r.left.get(stage, 0) for r in self.rows)


class FunnelView(ViewProjection):
    name = "funnel"
    tables = {  # noqa: RUF012
        "funnel_members": "contestant_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, city TEXT NOT NULL, "
        "grp TEXT NOT NULL, " + ", ".join(f"{flag} INTEGER NOT NULL DEFAULT 0" for flag in (*STAGES, *EXITS)),
    }
    indexes = {"ix_view_funnel_campaign": ("funnel_members", "campaign_id, city, grp")}  # noqa: RUF012

    def handlers(self) -> Handlers:
        found = Handlers().on(Contestant.Nominated, self._nominated)
        for kind, flag in _FLAGS.items():
            found.on(kind, self._flag(flag))
        found.on(Contestant.Reconsidered, self._flag("rejected", 0))  # back in review
        return found.on(Contestant.Renominated, self._again)

    def _again(self, tx: Tx, e: Contestant.Renominated) -> None:
        """Counted as nominated afresh: the earlier run's stages and its withdrawal are on record only."""
        self._set(tx, e, dict.fromkeys((*STAGES[1:], *EXITS), 0))

    def _nominated(self, tx: Tx, e: Contestant.Nominated) -> None:
        tx.insert(
            self.t["funnel_members"],
            {
                "contestant_id": self.text.id,
                "campaign_id": str(e.campaign_id),
                "city": e.person.city,
                "grp": e.person.group.value,
                "nominated": 1,
            },
            row=("funnel_members", self.text.id),
        )

    def _set(self, tx: Tx, e: Contestant.Event, flags: dict[str, int]) -> None:
        tx.update(
            self.t["funnel_members"],
            flags,
            {"contestant_id": self.text.id},
            f"funnel: contestant {self.text.id} has no row to update",
            row=("funnel_members", self.text.id),
        )

    def _flag(self, flag: str, value: int = 1) -> Handler[Contestant.Event]:
        return lambda tx, e: self._set(tx, e, {flag: value})

    def funnel(self, campaign_id: UUID) -> Funnel:
        sums = ", ".join(f"SUM({flag}) AS {flag}" for flag in (*STAGES, *EXITS))
        finalist = "SUM(CASE WHEN advanced = 1 AND withdrawn = 0 AND disqualified = 0 THEN 1 ELSE 0 END)"
        with self.reading() as tx:
            rows = tx.fetchall(
                self.sql(
                    f"SELECT city, grp, {sums}, {finalist} AS finalists FROM {{funnel_members}} "
                    "WHERE campaign_id = ? GROUP BY city, grp ORDER BY city, grp"
                ),
                (str(campaign_id),),
            )
        found = [
            FunnelRow(
                city=r["city"],
                group=r["grp"],
                reached={s: int(r[s] or 0) for s in STAGES},
                left={x: int(r[x] or 0) for x in EXITS},
                finalists=int(r["finalists"] or 0),
            )
            for r in rows
        ]
        found.sort(key=lambda r: (city_order(r.city), group_order(r.group)))  # 附件1's order
        finalists = sum(r.finalists for r in found)
        trainees = sum(r.finalists for r in found if r.group == Group.TRAINEE.value)
        return Funnel(found, finalists, trainees)
