"""Importing recommendation forms into a real store: every row reported, nothing half-written."""

from __future__ import annotations

from uuid import UUID

import pytest

from application.imports import import_recommendations
from application.recommendation_form import FormUnreadable
from application.service import CampaignService
from domain.values import Group
from tests.builders import ADMIN, shanghai
from tests.form_files import as_csv, as_xlsx, form_cells, person_id, person_row
from tests.integration.helpers import RECOMMENDING, launch

AFTER_RECOMMENDATION = shanghai(2021, 7, 2)


def stored(service: CampaignService) -> int:
    return service.recorder.max_notification_id() or 0


def test_a_good_form_creates_everyone_and_a_second_import_creates_nothing(service: CampaignService) -> None:
    campaign = launch(service)
    content = as_xlsx(form_cells([person_row(n) for n in range(1, 6)]))
    first = import_recommendations(service, campaign, content, "武汉.xlsx", actor=ADMIN, at=RECOMMENDING)
    assert first.group is Group.TRAINEE
    assert first.counts == {"created": 5, "unchanged": 0, "refused": 0}
    contestant = service.get_contestant(first.rows[0].contestant_id or UUID(int=0))
    assert (contestant.name, contestant.unit, contestant.contact, contestant.followers) == (
        "学员1",
        "武汉市退役军人事务局",
        "王科长",
        12_000,
    )
    events = stored(service)

    again = import_recommendations(service, campaign, content, "武汉.xlsx", actor=ADMIN, at=RECOMMENDING)

    assert again.counts == {"created": 0, "unchanged": 5, "refused": 0}
    assert [row.contestant_id for row in again.rows] == [row.contestant_id for row in first.rows]
    assert stored(service) == events


def test_a_partly_bad_form_reports_each_refused_row_with_its_rule(service: CampaignService) -> None:
    campaign = launch(service, quotas={"武汉市": {Group.TRAINEE: 3, Group.VETERAN: 3}})
    bad_check = person_row(2)
    bad_check[3] = str(bad_check[3])[:-1] + ("0" if str(bad_check[3])[-1] != "0" else "1")
    no_platform = person_row(3)
    no_platform[5] = "trainee_3"
    same_account = person_row(4)
    same_account[5] = "抖音: TRAINEE_1"
    rows = [person_row(1), bad_check, no_platform, same_account, person_row(5), person_row(6), person_row(7)]

    report = import_recommendations(
        service, campaign, as_csv(form_cells(rows)), "f.csv", actor=ADMIN, at=RECOMMENDING
    )

    outcomes = [(row.line, row.outcome, row.rule) for row in report.rows]
    assert outcomes == [
        (5, "created", None),
        (6, "refused", "invalid_value"),
        (7, "refused", "invalid_value"),
        (8, "refused", "duplicate_account"),
        (9, "created", None),
        (10, "created", None),
        (11, "refused", "quota_full"),
    ]
    assert "check character" in (report.rows[1].detail or "")
    assert "platform" in (report.rows[2].detail or "")
    assert service.places_taken(campaign, "quota:武汉市:trainee") == 3


def test_a_malformed_file_writes_nothing(service: CampaignService) -> None:
    campaign = launch(service)
    events = stored(service)
    for content, name in [(b"not a workbook", "f.xlsx"), (as_csv([["a", "b"], ["1", "2"]]), "f.csv")]:
        with pytest.raises(FormUnreadable):
            import_recommendations(service, campaign, content, name, actor=ADMIN, at=RECOMMENDING)
    no_group = as_csv(form_cells([person_row(1)], group=""))
    with pytest.raises(FormUnreadable, match="参赛组别"):
        import_recommendations(service, campaign, no_group, "f.csv", actor=ADMIN, at=RECOMMENDING)
    assert stored(service) == events


def test_ten_thousand_rows_after_the_window_are_each_refused_and_nothing_is_written(
    service: CampaignService,
) -> None:
    campaign = launch(service)
    events = stored(service)
    content = as_xlsx(form_cells([person_row(n) for n in range(10_000)]))
    seen: list[int] = []

    report = import_recommendations(
        service,
        campaign,
        content,
        "big.xlsx",
        actor=ADMIN,
        at=AFTER_RECOMMENDATION,
        progress=lambda done, total: seen.append(done) if done % 2_500 == 0 else None,
    )

    assert len(report.rows) == 10_000
    assert report.counts == {"created": 0, "unchanged": 0, "refused": 10_000}
    assert {row.rule for row in report.rows} == {"phase_closed"}
    assert seen == [2_500, 5_000, 7_500, 10_000]
    assert stored(service) == events
    assert person_id(9_999) not in repr(report)  # refusals name no full ID number


def test_a_form_of_several_batches_reports_each_row_as_if_imported_alone(service: CampaignService) -> None:
    campaign = launch(service, quotas={"武汉市": {Group.TRAINEE: 150, Group.VETERAN: 3}})
    earlier = [
        person_row(7),
        [300, "武汉市", "老学员", person_id(900), "13900000900", "抖音: trainee_300", "", "无", ""],
    ]
    import_recommendations(
        service, campaign, as_csv(form_cells(earlier)), "a.csv", actor=ADMIN, at=RECOMMENDING
    )
    bad_check = person_row(5)
    bad_check[3] = str(bad_check[3])[:-1] + ("0" if str(bad_check[3])[-1] != "0" else "1")
    taken_account = person_row(40)
    taken_account[5] = "抖音: trainee_300"  # stored before, by another person
    rows = [bad_check if n == 5 else taken_account if n == 40 else person_row(n) for n in range(1, 261)]
    same_batch_account = [
        901,
        "武汉市",
        "学员901",
        person_id(901),
        "13900000901",
        "抖音: TRAINEE_10",
        "",
        "无",
        "",
    ]
    rows.insert(12, same_batch_account)  # row 10 takes that account a moment earlier
    rows.append([261, "武汉市", "另一人", person_id(20), "13900000261", "抖音: other_261", "", "无", ""])

    report = import_recommendations(
        service, campaign, as_csv(form_cells(rows)), "f.csv", actor=ADMIN, at=RECOMMENDING
    )

    by_row = [(row.outcome, row.rule) for row in report.rows]
    first_line = report.rows[0].line
    special: dict[int, tuple[str, str | None]] = {
        5: ("refused", "invalid_value"),
        7: ("unchanged", None),
        40: ("refused", "duplicate_account"),
    }
    candidates = [n for n in range(1, 261) if n not in special]
    expected: dict[int, tuple[str, str | None]] = dict.fromkeys(
        candidates[:148], ("created", None)
    )  # 2 of 150 places were taken before
    expected |= dict.fromkeys(candidates[148:], ("refused", "quota_full"))
    expected |= special
    wanted = [expected[n] for n in range(1, 261)]
    wanted.insert(12, ("refused", "duplicate_account"))
    wanted.append(("refused", "duplicate_person"))
    assert by_row == wanted
    assert [row.line for row in report.rows] == list(range(first_line, first_line + len(rows)))
    assert service.places_taken(campaign, "quota:武汉市:trainee") == 150
    assert service.places_taken(campaign, "cap:trainee") == 150
