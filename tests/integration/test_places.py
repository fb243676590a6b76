"""Quotas, group caps and uniqueness, enforced by the store under concurrent writers."""

from __future__ import annotations

from functools import partial
from uuid import UUID

import pytest

from application import decisions
from application.bootstrap import build_service
from application.errors import ContestantNotFound
from application.service import CampaignService
from application.settings import Settings
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import DuplicateAccount, DuplicatePerson, GroupCapReached, QuotaFull
from domain.values import CITY_QUOTAS, Channel, Group, Person
from tests.builders import ADMIN, city_staff, make_person, shanghai
from tests.integration.helpers import RECOMMENDING, launch, race, recommend

HUANGSHI = "黄石市"
SMALL_QUOTAS = {
    HUANGSHI: {Group.TRAINEE: 5, Group.VETERAN: 5},
    "武汉市": {Group.TRAINEE: 50, Group.VETERAN: 50},
}


def _recommend_all(
    service: CampaignService, campaign_id: UUID, people: list[Person]
) -> list[Contestant | Exception]:
    """Every person recommended by their own city's bureau, all at the same moment."""

    def nominate(person: Person) -> Contestant:
        staff = city_staff(person.city)
        return service.nominate(
            campaign_id, person, Channel.RECOMMENDED, DecisionContext(actor=staff, at=RECOMMENDING)
        )

    return race([partial(nominate, person) for person in people])


def _stored(service: CampaignService, campaign_id: UUID, seq: int) -> bool:
    try:
        service.find_contestant(campaign_id, make_person(seq).id_number.value)
    except ContestantNotFound:
        return False
    return True


def test_twenty_city_bureaus_racing_for_five_places_get_exactly_five(service: CampaignService) -> None:
    campaign_id = launch(service, quotas=SMALL_QUOTAS)

    outcomes = _recommend_all(service, campaign_id, [make_person(seq, city=HUANGSHI) for seq in range(1, 21)])

    winners = [o for o in outcomes if isinstance(o, Contestant)]
    refusals = [o for o in outcomes if not isinstance(o, Contestant)]
    assert len(winners) == 5
    assert len(refusals) == 15
    assert all(isinstance(r, QuotaFull) for r in refusals), refusals
    assert service.places_taken(campaign_id, "quota:黄石市:trainee") == 5
    assert service.places_taken(campaign_id, "cap:trainee") == 5
    assert service.places_taken(campaign_id, "quota:黄石市:veteran") == 0
    assert [_stored(service, campaign_id, seq) for seq in range(1, 21)] == [
        isinstance(o, Contestant) for o in outcomes
    ]


def test_the_group_cap_holds_across_cities_under_contention(service: CampaignService) -> None:
    caps = {Group.TRAINEE: 1000, Group.VETERAN: 1000, Group.FAMILY: 5}
    campaign_id = launch(service, caps=caps)
    cities = list(CITY_QUOTAS)

    families = [make_person(seq, city=cities[seq % len(cities)], group="family") for seq in range(1, 21)]

    outcomes = _recommend_all(service, campaign_id, families)

    refusals = [o for o in outcomes if not isinstance(o, Contestant)]
    assert len(refusals) == 15
    assert all(isinstance(r, GroupCapReached) for r in refusals), refusals
    assert service.places_taken(campaign_id, "cap:family") == 5


def test_one_person_or_one_account_racing_against_itself_is_stored_once(service: CampaignService) -> None:
    campaign_id = launch(service)

    same_person = _recommend_all(service, campaign_id, [make_person(7, handle=f"a{n}") for n in range(8)])
    assert sum(isinstance(o, Contestant) for o in same_person) == 1
    assert all(isinstance(o, DuplicatePerson) for o in same_person if not isinstance(o, Contestant))

    spellings = ["SharedAccount", "sharedaccount", "@SHAREDACCOUNT", "ｓｈａｒｅｄａｃｃｏｕｎｔ"]
    same_account = _recommend_all(
        service, campaign_id, [make_person(seq, handle=spellings[seq % 4]) for seq in range(20, 28)]
    )
    assert sum(isinstance(o, Contestant) for o in same_account) == 1
    assert all(isinstance(o, DuplicateAccount) for o in same_account if not isinstance(o, Contestant))
    assert service.places_taken(campaign_id, "quota:武汉市:trainee") == 2


def test_a_withdrawn_or_rejected_contestant_frees_the_place(service: CampaignService) -> None:
    campaign_id = launch(service, quotas={HUANGSHI: {Group.TRAINEE: 2, Group.VETERAN: 2}})
    staff = city_staff(HUANGSHI)

    def taken() -> tuple[int, int]:
        quota = service.places_taken(campaign_id, "quota:黄石市:trainee")
        return quota, service.places_taken(campaign_id, "cap:trainee")

    first = recommend(service, campaign_id, 1, city=HUANGSHI, at=shanghai(2021, 6, 10))
    second = recommend(service, campaign_id, 2, city=HUANGSHI, at=shanghai(2021, 6, 10))
    with pytest.raises(QuotaFull, match="2 of 2"):
        recommend(service, campaign_id, 3, city=HUANGSHI, at=shanghai(2021, 6, 11))

    service.decide(
        first,
        decisions.WITHDRAW,
        DecisionContext(actor=staff, at=shanghai(2021, 6, 12), reason="本人因工作调动放弃"),
    )
    assert taken() == (1, 1)
    recommend(service, campaign_id, 3, city=HUANGSHI, at=shanghai(2021, 6, 13))
    assert taken() == (2, 2)
    with pytest.raises(QuotaFull):
        recommend(service, campaign_id, 4, city=HUANGSHI, at=shanghai(2021, 6, 14))

    service.decide(
        second,
        decisions.REJECT,
        DecisionContext(actor=ADMIN, at=shanghai(2021, 6, 20), reason="未参加 2020 年全媒体运营师培训"),
    )
    assert taken() == (1, 1)
    recommend(service, campaign_id, 4, city=HUANGSHI, at=shanghai(2021, 6, 21))
    assert taken() == (2, 2)


def test_a_duplicate_person_or_account_is_refused_and_nothing_is_written(service: CampaignService) -> None:
    campaign_id = launch(service)
    service.nominate(
        campaign_id,
        make_person(1, handle="ZhanYou_Li"),
        Channel.RECOMMENDED,
        DecisionContext(actor=city_staff("武汉市"), at=RECOMMENDING),
    )
    written = service.recorder.max_notification_id()

    same_person = make_person(1, city="黄石市", group="veteran", handle="another-account")
    with pytest.raises(DuplicatePerson, match=r"420102\*+0014"):
        service.nominate(
            campaign_id, same_person, Channel.RECOMMENDED, DecisionContext(actor=ADMIN, at=RECOMMENDING)
        )
    same_account = make_person(2, handle="@zhanyou_LI")
    with pytest.raises(DuplicateAccount, match="douyin"):
        service.nominate(
            campaign_id,
            same_account,
            Channel.RECOMMENDED,
            DecisionContext(actor=city_staff("武汉市"), at=RECOMMENDING),
        )
    assert service.recorder.max_notification_id() == written
    assert service.places_taken(campaign_id, "quota:武汉市:trainee") == 1
    assert service.places_taken(campaign_id, "cap:veteran") == 0

    # The same handle on the other platform is another account.
    other_platform = make_person(2, platform="快手", handle="zhanyou_li")
    service.nominate(
        campaign_id, other_platform, Channel.RECOMMENDED, DecisionContext(actor=ADMIN, at=RECOMMENDING)
    )
    assert service.places_taken(campaign_id, "quota:武汉市:trainee") == 2


def test_a_pool_changed_by_another_process_is_read_again_before_a_refusal_or_a_save(
    settings: Settings,
) -> None:
    """Each process trusts its cached pools at first; neither a stale refusal nor a stale place stands."""
    here, there = build_service(settings), build_service(settings)
    try:
        campaign_id = launch(here, quotas={HUANGSHI: {Group.TRAINEE: 1, Group.VETERAN: 1}})
        staff = city_staff(HUANGSHI)
        first = recommend(here, campaign_id, 1, city=HUANGSHI, at=shanghai(2021, 6, 10))
        with pytest.raises(QuotaFull):
            recommend(there, campaign_id, 2, city=HUANGSHI, at=shanghai(2021, 6, 10))  # cached there: full
        here.decide(
            first,
            decisions.WITHDRAW,
            DecisionContext(actor=staff, at=shanghai(2021, 6, 11), reason="本人因工作调动放弃"),
        )
        recommend(there, campaign_id, 3, city=HUANGSHI, at=shanghai(2021, 6, 12))  # the freed place
        with pytest.raises(QuotaFull):  # cached here: one place free, taken there meanwhile
            recommend(here, campaign_id, 4, city=HUANGSHI, at=shanghai(2021, 6, 13))
        assert [_stored(here, campaign_id, seq) for seq in (1, 2, 3, 4)] == [True, False, True, False]
        assert here.places_taken(campaign_id, "quota:黄石市:trainee") == 1
        assert there.places_taken(campaign_id, "quota:黄石市:trainee") == 1
    finally:
        here.close()
        there.close()
