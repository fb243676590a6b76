"""A contestant's whole life on the hubei-2021 timeline, read back from the real store."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, timedelta

import pytest

from application import decisions
from application.bootstrap import build_service
from application.errors import ContestantNotFound, NotFound
from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.lifecycle import Status
from domain.team import TeamRole
from domain.values import Channel
from tests.builders import ADMIN, JUDGE, city_staff, make_person, shanghai
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch

WUHAN = city_staff("武汉市")
SCORES = {"short_video": 88, "account_operation": 75.5, "livestream_selling": 92}

# Each step inside the window that gates it (Asia/Shanghai).
TRAINING_ACCOUNT = shanghai(2021, 7, 10, 9)  # online training opens 10 Jul
TRAINED = shanghai(2021, 7, 18, 17)
RESULTS = shanghai(2021, 8, 31, 23, 59, 59)  # the contest ends at 24:00 of 31 Aug
PICKED = shanghai(2021, 9, 2, 10)  # between the contest's close and the finals
AWARDED = shanghai(2021, 9, 15, 20)  # the ceremony


def test_a_contestant_goes_from_recommendation_to_award(service: CampaignService, settings: Settings) -> None:
    campaign_id = launch(service)
    person = make_person(1)

    contestant = service.nominate(
        campaign_id,
        person,
        Channel.RECOMMENDED,
        DecisionContext(actor=WUHAN, at=RECOMMENDING, reason="2020 培训学员"),
        unit="武汉市退役军人事务局",
        contact="王科长",
    )
    assert (contestant.status, contestant.version) == (Status.NOMINATED, 1)
    cid = contestant.id

    steps = [
        service.decide(
            cid,
            decisions.VERIFY,
            DecisionContext(actor=ADMIN, at=REVIEWING, reason="材料齐全", evidence="2020 培训名册第 12 行"),
        ),
        service.decide(
            cid,
            decisions.assign_training_account("hb-train-0001"),
            DecisionContext(actor=ADMIN, at=TRAINING_ACCOUNT),
        ),
        service.decide(
            cid, decisions.RECORD_TRAINING, DecisionContext(actor=JUDGE, at=TRAINED, evidence="结业记录")
        ),
        service.decide(cid, decisions.record_results(dict(SCORES)), DecisionContext(actor=JUDGE, at=RESULTS)),
        service.decide(
            cid,
            decisions.advance(TeamRole.STREAMER),
            DecisionContext(actor=WUHAN, at=PICKED, reason="带货成绩全市第一"),
        ),
        service.decide(
            cid, decisions.award("一等奖"), DecisionContext(actor=ADMIN, at=AWARDED, reason="决赛第一名")
        ),
    ]
    assert steps == [2, 3, 4, 5, 6, 7]

    # A service built afresh reads everything back from the store.
    with closing(build_service(settings)) as reopened:
        final = reopened.get_contestant(cid)
        history = reopened.history(cid)
        team = reopened.get_team(campaign_id, "武汉市")
    assert final.status is Status.AWARDED
    assert final.version == 7
    assert final.training_account == "hb-train-0001"
    assert final.results == {name: float(score) for name, score in SCORES.items()}
    assert (final.team_role, final.award) == ("streamer", "一等奖")
    assert (final.unit, final.contact) == ("武汉市退役军人事务局", "王科长")
    assert team is not None
    assert team.members == {str(cid): "streamer"}

    assert [(e.version, e.type) for e in history] == [
        (1, "Nominated"),
        (2, "Verified"),
        (3, "TrainingAccountAssigned"),
        (4, "Trained"),
        (5, "Competed"),
        (6, "Advanced"),
        (7, "Awarded"),
    ]
    assert [(e.user, e.role, e.city) for e in history] == [
        ("staff-武汉市", "city_staff", "武汉市"),
        ("organiser-1", "admin", None),
        ("organiser-1", "admin", None),
        ("judge-1", "judge", None),
        ("judge-1", "judge", None),
        ("staff-武汉市", "city_staff", "武汉市"),
        ("organiser-1", "admin", None),
    ]
    assert [e.reason for e in history] == [
        "2020 培训学员",
        "材料齐全",
        None,
        None,
        None,
        "带货成绩全市第一",
        "决赛第一名",
    ]
    assert history[1].evidence == "2020 培训名册第 12 行"
    assert {e.rule_version for e in history} == {1}
    instants = [RECOMMENDING, REVIEWING, TRAINING_ACCOUNT, TRAINED, RESULTS, PICKED, AWARDED]
    assert [e.at for e in history] == instants
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in history)

    nominated = history[0].changes
    assert nominated["id_number"] == [None, person.id_number.masked]
    assert nominated["mobile"] == [None, person.mobile.masked]
    assert nominated["status"] == [None, "nominated"]
    assert nominated["channel"] == [None, "recommended"]
    assert history[4].changes["status"] == ["trained", "competed"]
    assert history[6].changes == {
        "status": ["advanced", "awarded"],
        "award": [None, "一等奖"],
        "awards": [[], ["一等奖"]],
    }
    shown = repr(history)
    assert person.id_number.value not in shown
    assert person.mobile.value not in shown


def test_a_contestant_can_be_read_as_it_was_at_an_instant_or_version(service: CampaignService) -> None:
    campaign_id = launch(service)
    person = make_person(2)
    cid = service.nominate(
        campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=WUHAN, at=RECOMMENDING)
    ).id
    service.decide(cid, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    service.decide(
        cid,
        decisions.assign_training_account("hb-train-0002"),
        DecisionContext(actor=ADMIN, at=TRAINING_ACCOUNT),
    )

    def state(contestant: Contestant) -> tuple[Status, int, str | None]:
        return contestant.status, contestant.version, contestant.training_account

    get = service.get_contestant
    assert state(get(cid, as_of=RECOMMENDING)) == (Status.NOMINATED, 1, None)
    assert state(get(cid, as_of=REVIEWING - timedelta(seconds=1))) == (Status.NOMINATED, 1, None)
    assert state(get(cid, as_of=REVIEWING)) == (Status.VERIFIED, 2, None)
    enrolled = (Status.ENROLLED, 3, "hb-train-0002")
    assert state(get(cid, as_of=TRAINING_ACCOUNT.astimezone(UTC))) == enrolled
    assert state(get(cid, as_of=shanghai(2022, 1, 1))) == enrolled
    assert state(get(cid, version=1)) == (Status.NOMINATED, 1, None)
    assert state(get(cid, version=2)) == (Status.VERIFIED, 2, None)
    assert state(get(cid)) == enrolled

    with pytest.raises(NotFound, match="did not exist yet"):
        service.get_contestant(cid, as_of=RECOMMENDING - timedelta(microseconds=1))
    with pytest.raises(ContestantNotFound):
        service.find_contestant(campaign_id, make_person(3).id_number.value)
