"""The retention policy's due instant: whole days after the ceremony, always at 00:00 Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidValue
from domain.retention import RetentionPolicy
from domain.timeline import PhaseCode, Window, hubei_2021
from tests.builders import shanghai


@pytest.mark.parametrize(
    ("ceremony_ends", "days", "due"),
    [
        (shanghai(2021, 9, 16), 30, shanghai(2021, 10, 16)),  # 24:00 on 15 Sep
        (shanghai(2021, 9, 15, 23, 59, 59), 30, shanghai(2021, 10, 16)),  # the day is counted whole
        (shanghai(2021, 9, 15, 22), 0, shanghai(2021, 9, 16)),  # at the first midnight after it
        (shanghai(2021, 9, 16, 0, 0, 1), 1, shanghai(2021, 9, 18)),
        (datetime(2021, 9, 15, 16, tzinfo=UTC), 180, shanghai(2022, 3, 15)),  # 00:00 Shanghai in UTC
    ],
)
def test_due_at_shanghai_midnight(ceremony_ends: datetime, days: int, due: datetime) -> None:
    timeline = hubei_2021().with_changes({PhaseCode.CEREMONY: Window(shanghai(2021, 9, 15), ceremony_ends)})
    found = RetentionPolicy(days).due(timeline)
    assert found == due.astimezone(UTC)
    assert found is not None
    assert found.astimezone(due.tzinfo).time().isoformat() == "00:00:00"


def test_no_due_instant_while_the_ceremony_has_no_end() -> None:
    timeline = hubei_2021().with_changes({PhaseCode.CEREMONY: Window(None, None)})
    assert RetentionPolicy(30).due(timeline) is None


@pytest.mark.parametrize("days", [-1, 3651])
def test_a_policy_is_0_to_3650_days(days: int) -> None:
    with pytest.raises(InvalidValue):
        RetentionPolicy(days).checked()
