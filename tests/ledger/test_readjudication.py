"""Re-adjudication finds a decision the rules refuse, put in behind the application's back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from application import decisions
from application.readjudication import readjudicate
from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.decision import Decision, DecisionContext
from domain.values import Channel
from ledger.operations import verify
from tests.api.helpers import BOOTSTRAP, Api, Clock, with_users
from tests.builders import ADMIN, city_staff, make_person, shanghai
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch, recommend
from tests.ledger.helpers import with_key

AFTER_RECOMMENDATION = shanghai(2021, 7, 5, 10)  # recommendation closed at 24:00 on 1 July


def forge(service: CampaignService, event: Any) -> None:
    """Store one event through the recorder without any decision: as a rogue writer would."""
    service.recorder.insert_events([service.mapper.to_stored_event(event)])


def late_nomination(service: CampaignService, campaign_id: UUID, seq: int, at: datetime) -> UUID:
    campaign = service.get_campaign(campaign_id)
    person = make_person(seq)
    context = DecisionContext(actor=city_staff(person.city), at=RECOMMENDING)
    key = service.pseudonym(person.id_number.value)
    lawful = Contestant.nominate(campaign, person, Channel.RECOMMENDED, context, person_key=key)
    nominated: Any = lawful.collect_events()[0]
    forge(service, dataclasses.replace(nominated, timestamp=at))
    return lawful.id


def test_a_lawful_campaign_has_no_findings(service: CampaignService) -> None:
    cid = launch(service)
    first = recommend(service, cid, 1)
    recommend(service, cid, 2)
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    result = readjudicate(service, cid)
    assert (result.contestants, result.decisions, result.findings) == (2, 3, [])


def test_ways_back_are_judged_as_the_moves_they_record(service: CampaignService) -> None:
    """A reconsidered rejection and a withdrawn person nominated again follow the table."""
    cid = launch(service)
    rejected, withdrawn = recommend(service, cid, 1), recommend(service, cid, 2)
    at = shanghai(2021, 6, 12, 9)
    service.decide(rejected, decisions.REJECT, DecisionContext(actor=ADMIN, at=at, reason="缺退役证"))
    service.decide(rejected, decisions.RECONSIDER, DecisionContext(actor=ADMIN, at=at, reason="已补交"))
    service.decide(rejected, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    service.decide(withdrawn, decisions.WITHDRAW, DecisionContext(actor=ADMIN, at=at, reason="本人申请"))
    person = make_person(2)
    again = service.nominate(
        cid, person, Channel.RECOMMENDED, DecisionContext(actor=city_staff(person.city), at=REVIEWING)
    )
    assert again.id == withdrawn
    result = readjudicate(service, cid)
    assert (result.contestants, result.decisions, result.findings) == (2, 7, [])


def test_a_rejection_taken_back_is_replayed_as_the_table_records_it(service: CampaignService) -> None:
    cid = launch(service)
    first = recommend(service, cid, 1)
    service.decide(first, decisions.REJECT, DecisionContext(actor=ADMIN, at=REVIEWING, reason="缺少证明"))
    later = DecisionContext(actor=ADMIN, at=REVIEWING + timedelta(hours=1), reason="证明已补交")
    service.decide(first, decisions.RECONSIDER, later)
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING + timedelta(hours=2)))
    result = readjudicate(service, cid)
    assert (result.contestants, result.decisions, result.findings) == (1, 4, [])


def test_a_nomination_dated_after_recommendation_closed_is_found(
    service: CampaignService, settings: Settings
) -> None:
    cid = launch(service)
    recommend(service, cid, 1)
    forged = late_nomination(service, cid, 2, AFTER_RECOMMENDATION)
    assert service.get_contestant(forged).created_on == AFTER_RECOMMENDATION  # read as any other
    (finding,) = readjudicate(service, cid).findings
    assert finding.contestant_id == forged
    assert finding.decision == "recommend"
    assert finding.rule == "phase_closed"
    assert finding.refusal == "recommend: recommendation closed at 2021-07-02T00:00+08:00"
    assert verify(settings, record=False).ok  # the chain holds: only the rules tell it is unlawful


def test_a_decision_by_a_role_the_table_does_not_allow_is_found(service: CampaignService) -> None:
    cid = launch(service)
    contestant_id = recommend(service, cid, 1)
    contestant = service.get_contestant(contestant_id)
    contestant.verify(service.get_campaign(cid), DecisionContext(actor=ADMIN, at=REVIEWING))
    verified: Any = contestant.collect_events()[0]
    staff = Decision.of(city_staff("武汉市"), verified.decision.rule_version)
    forge(service, dataclasses.replace(verified, decision=staff))
    (finding,) = readjudicate(service, cid).findings
    assert (finding.decision, finding.rule, finding.version) == ("verify", "not_permitted", 2)


def test_a_rule_version_the_campaign_never_had_is_found(service: CampaignService) -> None:
    cid = launch(service)
    contestant_id = recommend(service, cid, 1)
    contestant = service.get_contestant(contestant_id)
    contestant.verify(service.get_campaign(cid), DecisionContext(actor=ADMIN, at=REVIEWING))
    verified: Any = contestant.collect_events()[0]
    forge(service, dataclasses.replace(verified, decision=Decision.of(ADMIN, 7)))
    (finding,) = readjudicate(service, cid).findings
    assert finding.rule == "unknown_rule_version"


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    clock = Clock()
    api_settings = ApiSettings.load(bootstrap_token=BOOTSTRAP, registration_rate=1000)
    with TestClient(create_app(with_key(settings), api_settings, clock=clock)) as client:
        ready = with_users(Api(client, clock))
        ready.launch()
        ready.recommend(1)
        yield ready


def test_auditors_read_the_findings_over_http(api: Api) -> None:
    service: CampaignService = api.client.app.state.service  # type: ignore[attr-defined]
    forged = late_nomination(service, UUID(api.campaign_id), 2, AFTER_RECOMMENDATION)
    path = f"/api/audit/campaigns/{api.campaign_id}/readjudication"
    answer = api.client.get(path, headers=api.as_("auditor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["decisions"] == 2
    assert [(f["contestant_id"], f["rule"]) for f in body["findings"]] == [(str(forged), "phase_closed")]
    assert api.client.get(path, headers=api.as_("city_staff")).status_code == 403
