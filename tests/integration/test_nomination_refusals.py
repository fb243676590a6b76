"""Nomination refusals against the real store: a future birth date, a person nominated twice."""

from __future__ import annotations

from uuid import UUID

import pytest
from stdnum.cn import ric

from application.errors import ContestantNotFound
from application.service import CampaignService
from domain.decision import DecisionContext
from domain.errors import DuplicatePerson, InvalidValue
from domain.timeline import PhaseCode
from domain.values import Actor, Channel, Person, mask_id_number
from tests.builders import ADMIN, PUBLIC, city_staff, make_person, shanghai
from tests.integration.helpers import LAUNCH, RECOMMENDING

WUHAN = city_staff("武汉市")
_BORN_2030 = "420102" + "20300101" + "060"
BORN_2030 = _BORN_2030 + ric.calc_check_digit(_BORN_2030 + "0")


def launch_with_self_registration(service: CampaignService) -> UUID:
    return service.launch_campaign(
        "战友杯 2021",
        DecisionContext(actor=ADMIN, at=LAUNCH),
        changes={PhaseCode.SELF_REGISTRATION: {"opens": shanghai(2021, 6, 7)}},
    )


def veteran(id_number: str, handle: str) -> Person:
    return Person.parse(
        name="选手",
        id_number=id_number,
        mobile="13800000001",
        city="武汉市",
        group="veteran",
        platform="douyin",
        account=handle,
        followers=1,
    )


@pytest.mark.parametrize(
    ("channel", "actor"),
    [(Channel.RECOMMENDED, WUHAN), (Channel.SELF, PUBLIC)],
    ids=["recommend", "register"],
)
def test_a_birth_date_after_the_nomination_is_refused(
    service: CampaignService, channel: Channel, actor: Actor
) -> None:
    campaign_id = launch_with_self_registration(service)
    with pytest.raises(InvalidValue) as refused:
        service.nominate(
            campaign_id,
            veteran(BORN_2030, "born-2030"),
            channel,
            DecisionContext(actor=actor, at=RECOMMENDING),
        )
    assert refused.value.problems == {
        "id_number": f"{mask_id_number(BORN_2030)}: the birth date is in the future"
    }
    with pytest.raises(ContestantNotFound):
        service.find_contestant(campaign_id, BORN_2030)


def test_a_public_registrant_is_told_register_and_never_shown_the_id_number(service: CampaignService) -> None:
    campaign_id = launch_with_self_registration(service)
    first = make_person(1, group="veteran")
    service.nominate(campaign_id, first, Channel.RECOMMENDED, DecisionContext(actor=WUHAN, at=RECOMMENDING))
    again = veteran(first.id_number.value, "another-handle")
    with pytest.raises(DuplicatePerson) as refused:
        service.nominate(campaign_id, again, Channel.SELF, DecisionContext(actor=PUBLIC, at=RECOMMENDING))
    assert refused.value.rule == "duplicate_person"
    assert (
        refused.value.detail
        == "register: a person with this ID number is already a contestant of this campaign"
    )
    assert first.id_number.value[:6] not in refused.value.detail
    assert first.id_number.value[-4:] not in refused.value.detail


@pytest.mark.parametrize(
    ("channel", "actor", "verb"),
    [(Channel.RECOMMENDED, WUHAN, "nominate"), (Channel.SELF, ADMIN, "register")],
    ids=["staff-recommend", "admin-register"],
)
def test_staff_see_the_masked_id_number_of_the_duplicate(
    service: CampaignService, channel: Channel, actor: Actor, verb: str
) -> None:
    campaign_id = launch_with_self_registration(service)
    first = make_person(1, group="veteran")
    service.nominate(campaign_id, first, Channel.RECOMMENDED, DecisionContext(actor=WUHAN, at=RECOMMENDING))
    with pytest.raises(DuplicatePerson) as refused:
        service.nominate(
            campaign_id,
            veteran(first.id_number.value, "another-handle"),
            channel,
            DecisionContext(actor=actor, at=RECOMMENDING),
        )
    assert refused.value.detail == (
        f"{verb}: the person with ID number {first.id_number.masked} is already a contestant of this campaign"
    )
