"""The phase log: each recorded phase boundary with its scheduled and actual instants and who saw it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.campaign import Campaign, PhaseEdge
from projections.base import Handler, Handlers, ViewProjection, utc_text
from projections.store import Tx


@dataclass(frozen=True)
class PhaseEntry:
    notification_id: int
    code: str
    side: str  # opens / closes
    scheduled: str | None  # UTC ISO instant the timeline gave, None when it had no date
    actual: str  # UTC ISO instant the boundary was recorded
    by: str  # scheduler / organiser
    user: str
    reason: str | None


class PhasesView(ViewProjection):
    name = "phases"
    seals = True
    tables = {  # noqa: RUF012
        "phase_log": "notification_id BIGINT PRIMARY KEY, campaign_id TEXT NOT NULL, code TEXT NOT NULL, "
        "side TEXT NOT NULL, scheduled TEXT, actual TEXT NOT NULL, by_kind TEXT NOT NULL, "
        "actor_user TEXT NOT NULL, reason TEXT",
    }
    indexes = {"ix_view_phase_log_campaign": ("phase_log", "campaign_id, code, side")}  # noqa: RUF012

    def handlers(self) -> Handlers:
        return (
            Handlers()
            .on(Campaign.PhaseOpened, self._edge("opens"))
            .on(Campaign.PhaseClosed, self._edge("closes"))
        )

    def _edge(self, side: str) -> Handler[PhaseEdge]:
        def handle(tx: Tx, e: PhaseEdge) -> None:
            tx.insert(
                self.t["phase_log"],
                {
                    "notification_id": self.current_id,
                    "campaign_id": self.text.id,
                    "code": e.code,
                    "side": side,
                    "scheduled": utc_text(e.scheduled),
                    "actual": self.text.at,
                    "by_kind": e.by,
                    "actor_user": e.decision.actor.user,
                    "reason": self.sealer.seal(e.decision.reason),
                },
                row=("phase_log", self.current_id),
            )

        return handle

    def log(self, campaign_id: UUID, *, code: str | None = None, side: str | None = None) -> list[PhaseEntry]:
        where, params = ["campaign_id = ?"], [str(campaign_id)]
        for column, value in (("code", code), ("side", side)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self.reading() as tx:
            rows = tx.fetchall(
                self.sql("SELECT * FROM {phase_log} WHERE ")
                + " AND ".join(where)
                + " ORDER BY notification_id",
                params,
            )
        return [
            PhaseEntry(
                int(r["notification_id"]),
                r["code"],
                r["side"],
                r["scheduled"],
                r["actual"],
                r["by_kind"],
                r["actor_user"],
                self.sealer.open(r["reason"]),
            )
            for r in rows
        ]
