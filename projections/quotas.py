"""Quota fill: per city and group the recommendation quota, places taken, verified, remaining.

Places taken are counted from the ``Allotment`` events (``PlaceTaken`` / ``PlaceReleased``),
the same aggregate whose optimistic concurrency enforces the limit, so the view agrees with
``CampaignService.places_taken`` once it has caught up.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.places import Allotment
from domain.values import Channel, Group
from projections.base import Handler, Handlers, ViewProjection
from projections.ordering import city_order, group_order
from projections.store import Tx


@dataclass(frozen=True)
class QuotaRow:
    city: str
    group: str
    quota: int
    active: int  # recommended contestants holding a place of this quota
    verified: int  # of those, how many passed review
    remaining: int


@dataclass(frozen=True)
class CapRow:
    group: str
    cap: int
    active: int
    remaining: int


class QuotasView(ViewProjection):
    name = "quotas"
    tables = {  # noqa: RUF012
        "quota_limits": "campaign_id TEXT NOT NULL, city TEXT NOT NULL, grp TEXT NOT NULL, "
        "quota BIGINT NOT NULL, PRIMARY KEY (campaign_id, city, grp)",
        "quota_caps": "campaign_id TEXT NOT NULL, grp TEXT NOT NULL, cap BIGINT NOT NULL, "
        "PRIMARY KEY (campaign_id, grp)",
        "quota_places": "allotment_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, scope TEXT NOT NULL, "
        "taken BIGINT NOT NULL",
        "quota_members": "contestant_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, city TEXT NOT NULL, "
        "grp TEXT NOT NULL, holds_quota INTEGER NOT NULL, verified INTEGER NOT NULL, "
        "active INTEGER NOT NULL",
    }
    indexes = {  # noqa: RUF012
        "ix_view_quota_places_campaign": ("quota_places", "campaign_id, scope"),
        "ix_view_quota_members_campaign": ("quota_members", "campaign_id, city, grp"),
    }

    def handlers(self) -> Handlers:
        return (
            Handlers()
            .on(Campaign.CampaignLaunched, self._launched)
            .on(Allotment.AllotmentOpened, self._opened)
            .on(Allotment.PlaceTaken, self._taken(+1))
            .on(Allotment.PlaceReleased, self._taken(-1))
            .on(Contestant.Nominated, self._nominated)
            .on(Contestant.Verified, self._verified)
            .on(Contestant.Rejected, self._left)
            .on(Contestant.Reconsidered, self._back)
            .on(Contestant.Renominated, self._renominated)
            .on(Contestant.Withdrawn, self._left)
            .on(Contestant.Disqualified, self._left)
        )

    def _launched(self, tx: Tx, e: Campaign.CampaignLaunched) -> None:
        campaign = self.text.id
        tx.executemany(
            self.sql("INSERT INTO {quota_limits} (campaign_id, city, grp, quota) VALUES (?,?,?,?)"),
            [(campaign, city, group, int(n)) for city, row in e.quotas.items() for group, n in row.items()],
        )
        tx.executemany(
            self.sql("INSERT INTO {quota_caps} (campaign_id, grp, cap) VALUES (?,?,?)"),
            [(campaign, group, int(n)) for group, n in e.caps.items()],
        )

    def _opened(self, tx: Tx, e: Allotment.AllotmentOpened) -> None:
        tx.insert(
            self.t["quota_places"],
            {
                "allotment_id": self.text.id,
                "campaign_id": str(e.campaign_id),
                "scope": e.scope,
                "taken": 0,
            },
            row=("quota_places", self.text.id),
        )

    def _taken(self, delta: int) -> Handler[Allotment.Event]:
        def handle(tx: Tx, e: Allotment.Event) -> None:
            tx.update(
                self.t["quota_places"],
                {},
                {"allotment_id": self.text.id},
                f"quotas: allotment {self.text.id} was never opened",
                row=("quota_places", self.text.id),
                add={"taken": delta},
            )

        return handle

    def _nominated(self, tx: Tx, e: Contestant.Nominated) -> None:
        group = e.person.group
        holds = e.channel == Channel.RECOMMENDED.value and group is not Group.FAMILY
        tx.insert(
            self.t["quota_members"],
            {
                "contestant_id": self.text.id,
                "campaign_id": str(e.campaign_id),
                "city": e.person.city,
                "grp": group.value,
                "holds_quota": int(holds),
                "verified": 0,
                "active": 1,
            },
            row=("quota_members", self.text.id),
        )

    def _member(self, tx: Tx, e: Contestant.Event, values: dict[str, int]) -> None:
        tx.update(
            self.t["quota_members"],
            values,
            {"contestant_id": self.text.id},
            f"quotas: contestant {self.text.id} was never nominated",
            row=("quota_members", self.text.id),
        )

    def _verified(self, tx: Tx, e: Contestant.Verified) -> None:
        self._member(tx, e, {"verified": 1})

    def _left(self, tx: Tx, e: Contestant.Event) -> None:
        self._member(tx, e, {"active": 0})

    def _back(self, tx: Tx, e: Contestant.Reconsidered) -> None:
        self._member(tx, e, {"active": 1, "verified": 0})

    def _renominated(self, tx: Tx, e: Contestant.Renominated) -> None:
        """Back in review; the channel of this nomination says whether a quota place is held."""
        holds = e.channel == Channel.RECOMMENDED.value and e.person.group is not Group.FAMILY
        self._member(tx, e, {"active": 1, "verified": 0, "holds_quota": int(holds)})

    # --- queries -------------------------------------------------------------

    def _places(self, tx: Tx, campaign: str) -> dict[str, int]:
        rows = tx.fetchall(
            self.sql("SELECT scope, taken FROM {quota_places} WHERE campaign_id = ?"), (campaign,)
        )
        return {r["scope"]: int(r["taken"]) for r in rows}

    def quotas(self, campaign_id: UUID) -> list[QuotaRow]:
        """Every city and group with a quota, cities in 附件1's order, groups in the notice's."""
        with self.reading() as tx:
            return self._quotas(tx, str(campaign_id), self._places(tx, str(campaign_id)))

    def caps(self, campaign_id: UUID) -> list[CapRow]:
        with self.reading() as tx:
            return self._caps(tx, str(campaign_id), self._places(tx, str(campaign_id)))

    def fill(self, campaign_id: UUID) -> tuple[list[QuotaRow], list[CapRow]]:
        """``quotas`` and ``caps`` in one read: one connection, the places read once."""
        campaign = str(campaign_id)
        with self.reading() as tx:
            places = self._places(tx, campaign)
            return self._quotas(tx, campaign, places), self._caps(tx, campaign, places)

    def _quotas(self, tx: Tx, campaign: str, places: dict[str, int]) -> list[QuotaRow]:
        limits = tx.fetchall(
            self.sql("SELECT city, grp, quota FROM {quota_limits} WHERE campaign_id = ? ORDER BY city, grp"),
            (campaign,),
        )
        verified = {
            (r["city"], r["grp"]): int(r["n"])
            for r in tx.fetchall(
                self.sql(
                    "SELECT city, grp, COUNT(*) AS n FROM {quota_members} WHERE campaign_id = ? "
                    "AND holds_quota = 1 AND verified = 1 AND active = 1 GROUP BY city, grp"
                ),
                (campaign,),
            )
        }
        found = []
        for row in limits:
            active = places.get(f"quota:{row['city']}:{row['grp']}", 0)
            quota = int(row["quota"])
            done = verified.get((row["city"], row["grp"]), 0)
            found.append(QuotaRow(row["city"], row["grp"], quota, active, done, quota - active))
        return sorted(found, key=lambda r: (city_order(r.city), group_order(r.group)))

    def _caps(self, tx: Tx, campaign: str, places: dict[str, int]) -> list[CapRow]:
        caps = tx.fetchall(
            self.sql("SELECT grp, cap FROM {quota_caps} WHERE campaign_id = ? ORDER BY grp"), (campaign,)
        )
        found = []
        for r in caps:
            cap, active = int(r["cap"]), places.get(f"cap:{r['grp']}", 0)
            found.append(CapRow(r["grp"], cap, active, cap - active))
        return sorted(found, key=lambda r: group_order(r.group))

    def campaign_ids(self) -> list[UUID]:
        """Every launched campaign this view has seen."""
        with self.reading() as tx:
            rows = tx.fetchall(self.sql("SELECT DISTINCT campaign_id FROM {quota_caps} ORDER BY campaign_id"))
        return [UUID(r["campaign_id"]) for r in rows]

    def taken(self, campaign_id: UUID, scope: str) -> int:
        """Places taken in ``quota:<city>:<group>`` or ``cap:<group>``, as the domain counts them."""
        with self.reading() as tx:
            return self._places(tx, str(campaign_id)).get(scope, 0)
