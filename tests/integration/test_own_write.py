"""A write that committed though its answer was lost is recognised as the command's own.

The store re-sends an insert whose COMMIT went through when the connection drops before
the answer; the second insert then fails on the unique key. Here the re-send is made
deterministic: the recorder inserts the same events twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from application import decisions
from application.errors import CampaignExists
from application.service import CampaignService
from domain.campaign import PhaseEdge
from domain.decision import DecisionContext
from domain.errors import DuplicatePerson, InvalidTransition
from domain.lifecycle import Status
from domain.timeline import PhaseCode, PhaseStatus
from domain.users import DuplicateUser
from domain.values import SCHEDULER, Channel
from tests.builders import ADMIN, city_staff, make_person, shanghai
from tests.integration.helpers import LAUNCH, RECOMMENDING, REVIEWING, launch, recommend

WUHAN = "武汉市"
PICKED = shanghai(2021, 9, 2, 10)  # teams are entered for the finals


def _resend_first_insert(service: CampaignService, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next insert is sent twice, as after a lost answer to its COMMIT."""
    real: Callable[..., Any] = service.recorder.insert_events
    resent: list[int] = []

    def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        ids = real(stored_events, **kwargs)
        if not resent:
            resent.append(len(stored_events))
            return real(stored_events, **kwargs)
        return ids

    monkeypatch.setattr(service.recorder, "insert_events", insert)
    return resent


def test_a_decision_resent_after_its_commit_answers_as_done(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    contestant_id = recommend(service, launch(service), 1)
    resent = _resend_first_insert(service, monkeypatch)
    context = DecisionContext(actor=ADMIN, at=REVIEWING, command_id="verify-1")
    assert service.decide(contestant_id, decisions.VERIFY, context) == 2
    assert resent == [1]
    events = list(service.events.get(contestant_id))
    assert [type(e).__name__ for e in events] == ["Nominated", "Verified"]
    assert service.get_contestant(contestant_id).status is Status.VERIFIED


def test_a_nomination_resent_after_its_commit_answers_as_done(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = launch(service)
    person = make_person(1)
    resent = _resend_first_insert(service, monkeypatch)
    context = DecisionContext(actor=city_staff(person.city), at=RECOMMENDING, command_id="row-1")
    contestant = service.nominate(campaign_id, person, Channel.RECOMMENDED, context)
    assert resent
    assert contestant.status is Status.NOMINATED
    assert len(list(service.events.get(contestant.id))) == 1


def test_a_team_decision_resent_after_its_commit_answers_as_done(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deciding again would refuse the entry as a repeat; the command's own write is the answer."""
    campaign_id = launch(service)
    resent = _resend_first_insert(service, monkeypatch)
    context = DecisionContext(actor=ADMIN, at=PICKED, reason="经组委会同意", command_id="finals-1")
    team = service.enter_team_for_finals(campaign_id, WUHAN, context)
    assert resent == [2]  # formed and entered in one insert
    assert (team.version, team.entered_finals) == (2, True)
    assert [type(e).__name__ for e in service.events.get(team.id)] == ["TeamFormed", "FinalsEntered"]


def test_another_command_on_the_same_state_is_still_refused(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the command's own id counts: a second, different command meets the real refusal."""
    campaign_id = launch(service)
    person = make_person(1)
    staff = city_staff(person.city)
    service.nominate(campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=RECOMMENDING))
    with pytest.raises(DuplicatePerson):
        service.nominate(
            campaign_id,
            person,
            Channel.RECOMMENDED,
            DecisionContext(actor=staff, at=RECOMMENDING, command_id="x"),
        )
    contestant_id = service.find_contestant(campaign_id, person.id_number.value).id
    service.decide(
        contestant_id, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING, command_id="a")
    )
    with pytest.raises(InvalidTransition):
        service.decide(
            contestant_id, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING, command_id="b")
        )


def test_a_campaign_decision_resent_after_its_commit_answers_as_done(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deciding again would amend the timeline twice (two rule versions); the own write answers."""
    campaign_id = launch(service)
    before = service.get_campaign(campaign_id)
    resent = _resend_first_insert(service, monkeypatch)
    context = DecisionContext(actor=ADMIN, at=RECOMMENDING, reason="延期", command_id="amend-1")
    closing = before.timeline[PhaseCode.RECOMMENDATION].closes
    assert closing is not None
    closes = closing + timedelta(days=3)
    version = service.amend_timeline(campaign_id, {PhaseCode.RECOMMENDATION: {"closes": closes}}, context)
    assert resent == [1]
    assert version == before.rule_version + 1
    after = service.get_campaign(campaign_id)
    assert (after.version, after.timeline[PhaseCode.RECOMMENDATION].closes) == (before.version + 1, closes)


def test_phase_edges_resent_after_their_commit_are_answered_not_refused(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-sent opening would be refused as already open; the boundaries a re-sent run recorded
    are its answer, not the empty list a second run finds."""
    campaign_id = launch(service)
    resent = _resend_first_insert(service, monkeypatch)
    reason = DecisionContext(actor=ADMIN, at=RECOMMENDING, reason="提前开放", command_id="open-1")
    service.open_phase(campaign_id, PhaseCode.SELF_REGISTRATION, reason)
    assert resent == [3]  # the registration phase, then its channels
    assert service.get_campaign(campaign_id).phase_status[PhaseCode.SELF_REGISTRATION] is PhaseStatus.OPEN

    resent = _resend_first_insert(service, monkeypatch)
    due = DecisionContext(actor=SCHEDULER, at=REVIEWING, command_id="tick-1")
    recorded = service.record_due_boundaries(campaign_id, due)
    assert resent
    edges = [e for e in service.events.get(campaign_id) if isinstance(e, PhaseEdge)]
    mine = [(PhaseCode(e.code), type(e).__name__) for e in edges if e.decision.command_id == "tick-1"]
    assert mine
    assert recorded == [(code, "opens" if kind == "PhaseOpened" else "closes") for code, kind in mine]


def test_a_launch_and_a_user_creation_resent_after_their_commit_answer_as_done(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both would be refused as taken (the name exists); a different command still is."""
    resent = _resend_first_insert(service, monkeypatch)
    launched = service.launch_campaign("战友杯", DecisionContext(actor=ADMIN, at=LAUNCH, command_id="go"))
    assert resent == [1]
    assert service.get_campaign(launched).version == 1
    with pytest.raises(CampaignExists):
        service.launch_campaign("战友杯", DecisionContext(actor=ADMIN, at=LAUNCH, command_id="again"))

    resent = _resend_first_insert(service, monkeypatch)
    context = DecisionContext(actor=ADMIN, at=LAUNCH, command_id="user-1")
    user = service.create_user("judge-1", "judge", None, "0" * 64, context)
    assert resent == [2]  # the user and the claim on its name
    assert service.get_user(user.id) is not None
    with pytest.raises(DuplicateUser):
        service.create_user("judge-1", "judge", None, "0" * 64, replace(context, command_id="user-2"))
