"""The campaign's decisions take one decision context, as those on contestants and teams do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from domain.campaign import Campaign
from domain.decision import Decision, DecisionContext
from domain.errors import NotPermitted, VersionConflict
from domain.events import DecisionEvent
from domain.retention import RetentionPolicy
from domain.timeline import PhaseCode, hubei_2021
from domain.values import SCHEDULER
from tests.builders import ADMIN
from tests.unit.helpers import launched, sh, staff

P = PhaseCode
Decide = Callable[[Campaign, DecisionContext], object]


def _recommendation_open() -> Campaign:
    campaign = launched(hubei_2021())
    campaign.record_due_boundaries(DecisionContext(actor=SCHEDULER, at=sh(2021, 6, 8)))
    campaign.collect_events()
    return campaign


#: Each organiser decision: (its name in refusals, the campaign it is taken on, when, decide).
DECISIONS: list[tuple[str, Callable[[], Campaign], Any, Decide]] = [
    (
        "amend timeline",
        lambda: launched(hubei_2021()),
        sh(2021, 6, 1),
        lambda c, context: c.amend_timeline({P.ONLINE_TRAINING: {"opens": sh(2021, 7, 12)}}, context),
    ),
    (
        "open online_training",
        lambda: launched(hubei_2021()),
        sh(2021, 7, 8),
        lambda c, context: c.open_now(P.ONLINE_TRAINING, context),
    ),
    (
        "close recommendation",
        _recommendation_open,
        sh(2021, 6, 20, 12),
        lambda c, context: c.close_now(P.RECOMMENDATION, context),
    ),
    (
        "set retention",
        lambda: launched(hubei_2021()),
        sh(2021, 6, 1),
        lambda c, context: c.set_retention(RetentionPolicy(180), context),
    ),
]
NAMES = [name for name, _, _, _ in DECISIONS]


def _context(at: Any, **given: Any) -> DecisionContext:
    return replace(DecisionContext(actor=ADMIN, at=at, reason="组委会决定"), **given)


@pytest.mark.parametrize(("name", "build", "at", "decide"), DECISIONS, ids=NAMES)
def test_each_records_the_contexts_reason_evidence_and_command_id(
    name: str, build: Callable[[], Campaign], at: Any, decide: Decide
) -> None:
    campaign = build()
    decide(campaign, _context(at, evidence="组委会纪要 第5号", command_id="cmd-9"))
    recorded = [e for e in campaign.collect_events() if isinstance(e, DecisionEvent)]
    mine = [e for e in recorded if e.decision.actor == ADMIN]
    assert mine
    for event in mine:
        assert event.decision == Decision(
            actor=ADMIN,
            rule_version=event.decision.rule_version,
            reason="组委会决定",
            evidence="组委会纪要 第5号",
            command_id="cmd-9",
        )
        assert event.timestamp == at
    # boundaries that fell due by date are the scheduler's, without the organiser's reason
    for event in recorded:
        if event not in mine:
            assert (event.decision.actor, event.decision.reason, event.decision.evidence) == (
                SCHEDULER,
                None,
                None,
            )


@pytest.mark.parametrize(("name", "build", "at", "decide"), DECISIONS, ids=NAMES)
def test_each_is_taken_on_the_version_the_caller_saw_and_refused_on_any_other(
    name: str, build: Callable[[], Campaign], at: Any, decide: Decide
) -> None:
    campaign = build()
    seen = campaign.version
    with pytest.raises(VersionConflict) as refused:
        decide(campaign, _context(at, expected_version=seen - 1))
    assert refused.value.rule == "version_conflict"
    assert refused.value.detail == (
        f"{name}: the campaign is at version {seen}, not {seen - 1}; reload and decide again"
    )
    assert campaign.pending_events == []

    decide(campaign, _context(at, expected_version=seen))
    assert campaign.pending_events


@pytest.mark.parametrize(("name", "build", "at", "decide"), DECISIONS, ids=NAMES)
def test_a_caller_who_may_not_decide_is_told_so_whatever_version_they_name(
    name: str, build: Callable[[], Campaign], at: Any, decide: Decide
) -> None:
    campaign = build()
    with pytest.raises(NotPermitted):
        decide(campaign, _context(at, actor=staff(), expected_version=99))
    assert campaign.pending_events == []


def test_the_launch_records_the_contexts_reason_evidence_and_command_id() -> None:
    context = DecisionContext(
        actor=ADMIN,
        at=sh(2021, 5, 1),
        reason="第三届",
        evidence="鄂退役军人函〔2021〕8号",
        command_id="cmd-1",
    )
    campaign = Campaign.launch(context, name="zhanyou-2021", timeline=hubei_2021())
    (launched_event,) = campaign.collect_events()
    assert isinstance(launched_event, DecisionEvent)
    assert launched_event.decision == Decision(ADMIN, 1, "第三届", "鄂退役军人函〔2021〕8号", "cmd-1")


def test_the_scheduler_records_retention_naming_the_policy_with_its_command_id() -> None:
    campaign = launched(hubei_2021())
    campaign.set_retention(RetentionPolicy(0), _context(sh(2021, 6, 1)))
    campaign.collect_events()
    due = campaign.retention_due
    assert due is not None
    campaign.record_retention(
        3, DecisionContext(actor=SCHEDULER, at=due, reason="not the policy", command_id="run-1")
    )
    (carried_out,) = campaign.collect_events()
    assert isinstance(carried_out, Campaign.RetentionCarriedOut)
    assert carried_out.decision == Decision(SCHEDULER, 2, RetentionPolicy(0).describe(2), command_id="run-1")
