"""A view's handlers: one per event class, each given the events of exactly its class."""

from __future__ import annotations

from typing import cast

import pytest
from eventsourcing.domain import DomainEvent

from domain.campaign import Campaign
from domain.decision import DecisionContext
from domain.timeline import PhaseCode, hubei_2021
from projections.base import Handlers
from projections.store import Tx
from tests.builders import ADMIN
from tests.unit.helpers import SCHEDULER_ACTOR, sh

NO_TX = cast("Tx", None)


def test_a_class_takes_one_handler() -> None:
    def ignore(tx: Tx, e: Campaign.CampaignLaunched) -> None:
        pass

    handlers = Handlers().on(Campaign.CampaignLaunched, ignore)
    with pytest.raises(ValueError, match="CampaignLaunched has a handler already"):
        handlers.on(Campaign.CampaignLaunched, ignore)


def test_events_go_to_the_handler_of_their_class() -> None:
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)), name="zhanyou-2021", timeline=hubei_2021()
    )
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER_ACTOR, at=sh(2021, 6, 10, 10)))
    events = [e for e in campaign.collect_events() if isinstance(e, DomainEvent)]
    seen: list[tuple[str, str]] = []

    def opened(tx: Tx, e: Campaign.PhaseOpened) -> None:
        seen.append(("opened", e.code))

    def closed(tx: Tx, e: Campaign.PhaseClosed) -> None:
        seen.append(("closed", e.code))

    def launch(tx: Tx, e: Campaign.CampaignLaunched) -> None:
        seen.append(("launched", e.name))

    handlers = (
        Handlers()
        .on(Campaign.PhaseOpened, opened)
        .on(Campaign.PhaseClosed, closed)
        .on(Campaign.CampaignLaunched, launch)
    )
    assert set(handlers) == {Campaign.PhaseOpened, Campaign.PhaseClosed, Campaign.CampaignLaunched}
    for event in events:
        handlers.dispatch(NO_TX, event)
    assert seen[0] == ("launched", "zhanyou-2021")
    assert ("opened", PhaseCode.PUBLICITY.value) in seen
    assert ("closed", PhaseCode.PUBLICITY.value) in seen
    assert len(seen) == len(events) > 3
