"""Views of the notification log, kept exactly-once with the eventsourcing library's tracking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from application.settings import Settings
from application.setup_lock import setup_lock
from projections.audit import AuditView
from projections.base import ViewProjection
from projections.funnel import FunnelView
from projections.phases import PhasesView
from projections.quotas import QuotasView
from projections.roster import RosterView
from projections.stalls import StallBoard
from projections.store import ViewDatabase
from projections.teams import TeamsView

VIEW_CLASSES: dict[str, type[ViewProjection]] = {
    cls.name: cls for cls in (RosterView, QuotasView, FunnelView, TeamsView, AuditView, PhasesView)
}


@dataclass
class Views:
    """Every view on one datastore; typed accessors for the queries."""

    db: ViewDatabase
    stalls: StallBoard
    by_name: dict[str, ViewProjection] = field(default_factory=dict)

    @property
    def all(self) -> list[ViewProjection]:
        return list(self.by_name.values())

    def _get(self, name: str, kind: type[Any]) -> Any:
        found = self.by_name[name]
        assert isinstance(found, kind)  # noqa: S101 - a wrong registry is a programming error
        return found

    @property
    def roster(self) -> RosterView:
        view: RosterView = self._get("roster", RosterView)
        return view

    @property
    def quotas(self) -> QuotasView:
        view: QuotasView = self._get("quotas", QuotasView)
        return view

    @property
    def funnel(self) -> FunnelView:
        view: FunnelView = self._get("funnel", FunnelView)
        return view

    @property
    def teams(self) -> TeamsView:
        view: TeamsView = self._get("teams", TeamsView)
        return view

    @property
    def audit(self) -> AuditView:
        view: AuditView = self._get("audit", AuditView)
        return view

    @property
    def phases(self) -> PhasesView:
        view: PhasesView = self._get("phases", PhasesView)
        return view

    def close(self) -> None:
        self.db.close()


def open_views(settings: Settings, *, names: list[str] | None = None, suffix: str = "") -> Views:
    """Open (and create if missing) the views' tables beside the event store."""
    db = ViewDatabase(settings)
    try:
        with setup_lock(settings):  # other processes open the views too
            views = Views(db, StallBoard(db))
        for name in names or list(VIEW_CLASSES):
            views.by_name[name] = VIEW_CLASSES[name](db, suffix=suffix)
    except BaseException:
        db.close()
        raise
    return views
