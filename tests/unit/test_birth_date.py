"""The birth date inside an ID number: never after the nomination, and never shown in a refusal."""

from __future__ import annotations

from datetime import date

import pytest

from domain.ages import AgeRule
from domain.contestant import Contestant
from domain.errors import InvalidValue
from domain.values import Channel, Group, ResidentId
from tests.unit.helpers import launched, nominated, person, resident_id, sh

FUTURE = resident_id("42010220300101060")  # born 1 Jan 2030
PRE_1900 = resident_id("42010218990101001")


def masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def test_a_future_birth_date_is_a_valid_value_on_its_own() -> None:
    # Values never read the clock: only the decision, which has an instant, can judge "future".
    assert ResidentId.parse(FUTURE).birth_date == date(2030, 1, 1)


@pytest.mark.parametrize("channel", [Channel.RECOMMENDED, Channel.SELF])
def test_a_birth_date_after_the_nomination_is_refused(channel: Channel) -> None:
    campaign = launched()
    who = person(id_number=FUTURE, group=Group.VETERAN)
    with pytest.raises(InvalidValue) as refused:
        nominated(campaign, who, channel, at=sh(2021, 6, 10))
    assert refused.value.rule == "invalid_value"
    assert refused.value.problems == {"id_number": f"{masked(FUTURE)}: the birth date is in the future"}


def test_the_nomination_day_is_taken_in_shanghai() -> None:
    campaign = launched()
    campaign.age_rules = dict.fromkeys(Group, AgeRule(min_age=None))  # newborns, to test the day only
    born_today = person(id_number=resident_id("42010220210610060"))  # born 10 Jun 2021
    # 10 Jun 00:30 in Shanghai is still 9 Jun in UTC: the person is already born.
    contestant = nominated(campaign, born_today, at=sh(2021, 6, 10, 0, 30))
    assert isinstance(contestant, Contestant)
    born_tomorrow = person(serial=2, id_number=resident_id("42010220210611060"))
    with pytest.raises(InvalidValue):
        nominated(campaign, born_tomorrow, at=sh(2021, 6, 10, 23, 59))


def test_the_implausible_birth_date_refusal_keeps_the_number_masked() -> None:
    with pytest.raises(InvalidValue) as refused:
        ResidentId.parse(PRE_1900)
    assert refused.value.problems == {"id_number": f"{masked(PRE_1900)}: the birth date is implausible"}
    assert "1899" not in refused.value.detail
