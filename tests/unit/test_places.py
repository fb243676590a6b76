"""Places: a city's quota for a group and a group's cap, taken at nomination, given back on leaving."""

from __future__ import annotations

import pytest

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.enrolment import contestant_scopes, free_places, take_places
from domain.errors import GroupCapReached, QuotaFull
from domain.places import AccountClaim, Allotment, cap_scope, quota_scope
from domain.timeline import hubei_2021
from domain.values import Account, Channel, Group
from tests.builders import ADMIN
from tests.unit.helpers import HUANGSHI, WUHAN, nominated, person, self_registration_open, sh


def small_campaign() -> Campaign:
    campaign = Campaign.launch(
        DecisionContext(actor=ADMIN, at=sh(2021, 5, 1)),
        name="small",
        timeline=self_registration_open(hubei_2021()),
        quotas={WUHAN: {Group.TRAINEE: 2, Group.VETERAN: 1}, HUANGSHI: {Group.TRAINEE: 2, Group.VETERAN: 1}},
        caps={Group.TRAINEE: 3, Group.VETERAN: 5, Group.FAMILY: 2},
    )
    campaign.collect_events()
    return campaign


def pools(campaign: Campaign) -> dict[str, Allotment]:
    scopes = [
        quota_scope(city, group) for city in (WUHAN, HUANGSHI) for group in (Group.TRAINEE, Group.VETERAN)
    ]
    scopes += [cap_scope(group) for group in Group]
    return {s: Allotment(campaign_id=campaign.id, scope=s, timestamp=sh(2021, 6, 1)) for s in scopes}


def enter(campaign: Campaign, all_pools: dict[str, Allotment], contestant: Contestant) -> None:
    take_places(
        contestant, campaign, {s: all_pools[s] for s in contestant_scopes(contestant)}, sh(2021, 6, 10)
    )


def test_scopes_of_each_kind_of_contestant() -> None:
    campaign = small_campaign()
    recommended = nominated(campaign, person(serial=1, group=Group.TRAINEE))
    assert contestant_scopes(recommended) == [quota_scope(WUHAN, Group.TRAINEE), cap_scope(Group.TRAINEE)]
    self_registered = nominated(campaign, person(serial=2), Channel.SELF)
    assert contestant_scopes(self_registered) == [cap_scope(Group.VETERAN)]
    family = nominated(campaign, person(serial=3, group=Group.FAMILY))
    assert contestant_scopes(family) == [cap_scope(Group.FAMILY)]


def test_a_full_city_quota_refuses_the_next_recommendation_but_not_other_cities() -> None:
    campaign = small_campaign()
    all_pools = pools(campaign)
    enter(campaign, all_pools, nominated(campaign, person(serial=1)))
    with pytest.raises(QuotaFull, match=r"the 武汉市 quota for the veteran group .* is full: 1 of 1"):
        enter(campaign, all_pools, nominated(campaign, person(serial=2)))
    assert all_pools[cap_scope(Group.VETERAN)].taken == 1  # nothing taken by the refused one
    enter(campaign, all_pools, nominated(campaign, person(serial=3, city=HUANGSHI)))
    enter(campaign, all_pools, nominated(campaign, person(serial=4), Channel.SELF))  # no quota place
    assert all_pools[cap_scope(Group.VETERAN)].taken == 3


def test_the_group_cap_counts_every_city_and_channel() -> None:
    campaign = small_campaign()
    all_pools = pools(campaign)
    enter(campaign, all_pools, nominated(campaign, person(serial=1, group=Group.TRAINEE)))
    enter(campaign, all_pools, nominated(campaign, person(serial=2, group=Group.TRAINEE)))
    enter(campaign, all_pools, nominated(campaign, person(serial=3, group=Group.TRAINEE, city=HUANGSHI)))
    with pytest.raises(GroupCapReached, match="reached its cap of 3"):
        enter(campaign, all_pools, nominated(campaign, person(serial=4, group=Group.TRAINEE, city=HUANGSHI)))
    assert all_pools[cap_scope(Group.TRAINEE)].taken == 3


def test_leaving_gives_the_place_back() -> None:
    campaign = small_campaign()
    all_pools = pools(campaign)
    first = nominated(campaign, person(serial=1))
    enter(campaign, all_pools, first)
    assert all_pools[quota_scope(WUHAN, Group.VETERAN)].taken == 1
    free_places(first, {s: all_pools[s] for s in contestant_scopes(first)}, None, sh(2021, 6, 11))
    assert all_pools[quota_scope(WUHAN, Group.VETERAN)].taken == 0
    assert all_pools[cap_scope(Group.VETERAN)].taken == 0
    enter(campaign, all_pools, nominated(campaign, person(serial=2)))
    assert all_pools[quota_scope(WUHAN, Group.VETERAN)].taken == 1


def test_releasing_from_an_empty_pool_records_nothing() -> None:
    campaign = small_campaign()
    allotment = pools(campaign)[cap_scope(Group.FAMILY)]
    allotment.collect_events()
    allotment.release(nominated(campaign).id, at=sh(2021, 6, 11))
    assert allotment.collect_events() == []
    assert allotment.taken == 0


def test_a_pool_holds_its_count_not_its_holders() -> None:
    campaign = small_campaign()
    allotment = pools(campaign)[cap_scope(Group.FAMILY)]
    allotment.take(nominated(campaign).id, limit=2, refusal=GroupCapReached("full"), at=sh(2021, 6, 10))
    assert allotment.taken == 1
    assert set(vars(allotment)) == {
        "_id",
        "_version",
        "_pending_events",
        "_created_on",
        "_modified_on",
        "campaign_id",
        "scope",
        "taken",
    }


def test_an_account_claim_is_keyed_case_insensitively() -> None:
    campaign = small_campaign()
    key = Account.parse("抖音", "Wang").key
    claim = AccountClaim.claim(campaign.id, key, nominated(campaign).id, sh(2021, 6, 10))
    assert claim.id == AccountClaim.create_id(campaign.id, Account.parse("douyin", "@WANG").key)
    assert claim.id != AccountClaim.create_id(campaign.id, Account.parse("快手", "Wang").key)
    assert claim.account_key == "douyin:wang"


def test_a_city_missing_from_a_custom_quota_table_has_no_places() -> None:
    campaign = small_campaign()
    assert campaign.quota("十堰市", Group.TRAINEE) == 0
    assert campaign.quota("十堰市", Group.FAMILY) is None
    all_pools = pools(campaign)
    outsider = nominated(campaign, person(serial=1, city="十堰市"))
    scopes = contestant_scopes(outsider)
    all_pools.update(
        {s: Allotment(campaign_id=campaign.id, scope=s, timestamp=sh(2021, 6, 1)) for s in scopes}
    )
    with pytest.raises(QuotaFull, match="0 of 0"):
        enter(campaign, all_pools, outsider)
