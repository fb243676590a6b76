"""The views at an instant, replayed from the log with the live views' own handlers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr

from application import decisions
from application.bootstrap import build_service
from application.errors import StoreUnavailable
from application.service import CampaignService
from application.settings import Settings
from domain.decision import DecisionContext
from domain.events import ERASED
from projections.asof import AsOfViews
from tests.builders import ADMIN, JUDGE, shanghai
from tests.conftest import StoreFactory
from tests.integration.helpers import RECOMMENDING, REVIEWING, launch, recommend
from tests.projections.helpers import AWARDED, RESULTS, SCORES, head, running_views, scripted_campaign


def _of(campaign_id: UUID, tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one campaign (every table of the roster and the quotas names its campaign)."""
    wanted = ("campaign_id", str(campaign_id))
    return {name: [row for row in rows if wanted in row] for name, rows in tables.items()}


def test_at_the_head_the_replayed_views_equal_the_live_ones_row_for_row(
    service: CampaignService, settings: Settings
) -> None:
    script = scripted_campaign(service)
    other = launch(service, "另一届")  # its people are not the campaign's
    recommend(service, other, 31)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        live = {"roster": views.roster.dump(), "quotas": views.quotas.dump()}
    replayed = AsOfViews(service).at(script.campaign_id, AWARDED + timedelta(days=1))
    assert replayed.head == head(service)
    for name, view in (("roster", replayed.roster), ("quotas", replayed.quotas)):
        expected = _of(script.campaign_id, live[name])
        assert any(expected.values())
        assert view.dump() == expected, name


def test_a_score_recorded_again_reads_at_each_instant_as_it_was_recorded(
    service: CampaignService, settings: Settings
) -> None:
    script = scripted_campaign(service)
    corrected = script.id(8)
    for n in (1, 2):
        service.decide(
            corrected,
            decisions.record_results({**SCORES, "short_video": 80 + n}),
            DecisionContext(actor=JUDGE, at=RESULTS + timedelta(hours=n), reason="复核更正"),
        )
    instants = [RESULTS + timedelta(minutes=m) for m in (30, 90, 150)]
    found = AsOfViews(service).at_each(script.campaign_id, [*instants, AWARDED + timedelta(days=1)])
    rows = [replayed.roster.get(corrected) for replayed in found]
    assert [(r.results or {}).get("short_video") for r in rows if r] == [80, 81, 82, 82]
    assert [(r.version, r.changed_at[:16]) for r in rows if r][:3] == [
        (5, "2021-08-30T12:00"),
        (6, "2021-08-30T13:00"),
        (7, "2021-08-30T14:00"),
    ]
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        live = views.roster.dump()
    assert found[-1].roster.dump() == _of(script.campaign_id, {"roster": live["roster"]})


def test_a_log_read_a_few_events_a_page_replays_as_when_read_at_once(service: CampaignService) -> None:
    script = scripted_campaign(service)
    instants = [RESULTS, AWARDED + timedelta(days=1)]
    at_once = AsOfViews(service).at_each(script.campaign_id, instants)
    paged = AsOfViews(service, batch=3).at_each(script.campaign_id, instants)  # each page read ahead
    for whole, pages in zip(at_once, paged, strict=True):
        assert whole.roster.dump()["roster"]
        assert (pages.roster.dump(), pages.quotas.dump()) == (whole.roster.dump(), whole.quotas.dump())


def test_today_read_up_to_now_is_answered_but_pushes_out_no_kept_instant(service: CampaignService) -> None:
    campaign = launch(service)
    recommend(service, campaign, 1)
    views = AsOfViews(service, kept=3)
    kept = views.at(campaign, REVIEWING)  # an instant asked for: the next page finds it kept
    for minutes in range(1, 6):  # a page polled today: each reading has its own now
        now = REVIEWING + timedelta(days=1, minutes=minutes)
        polled = views.at(campaign, now, now=now)
        assert polled.as_of == now
        assert [r.name for r in polled.roster.every(campaign)] == ["选手1"]
    assert views.at(campaign, REVIEWING) is kept


def test_each_instant_sees_the_decisions_dated_up_to_it(service: CampaignService) -> None:
    campaign = launch(service)
    first = recommend(service, campaign, 1)
    recommend(service, campaign, 2, at=RECOMMENDING + timedelta(days=1))
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    views = AsOfViews(service)

    before, after = views.at_each(campaign, [RECOMMENDING, REVIEWING])
    assert [(r.name, r.status) for r in before.roster.every(campaign)] == [("选手1", "nominated")]
    assert sorted((r.name, r.status) for r in after.roster.every(campaign)) == [
        ("选手1", "verified"),
        ("选手2", "nominated"),
    ]
    assert views.at(campaign, RECOMMENDING) is before  # kept while the log has not moved
    recommend(service, campaign, 3, at=RECOMMENDING - timedelta(hours=1))
    again = views.at(campaign, RECOMMENDING)  # the log moved: read again, from where it was
    assert again is not before
    assert sorted(r.name for r in again.roster.every(campaign)) == ["选手1", "选手3"]


def test_an_erased_person_is_erased_at_every_instant(new_store: StoreFactory) -> None:
    settings = new_store(cipher_key=SecretStr("A" * 43 + "="))
    service = build_service(settings)
    try:
        campaign = launch(service)
        contestant = recommend(service, campaign, 1)
        views = AsOfViews(service)
        assert [r.name for r in views.at(campaign, REVIEWING).roster.every(campaign)] == ["选手1"]
        service.erase(contestant, DecisionContext(actor=ADMIN, at=REVIEWING, reason="本人申请删除"))
        earlier = views.at(campaign, shanghai(2021, 6, 15)).roster.every(campaign)
        assert [(r.name, r.id_number, r.account) for r in earlier] == [(ERASED, ERASED, ERASED)]
    finally:
        service.close()


def test_keys_read_together_open_the_same_people_and_no_erased_one(new_store: StoreFactory) -> None:
    settings = new_store(cipher_key=SecretStr("B" * 43 + "="))
    service = build_service(settings)
    try:
        campaign = launch(service)
        kept, erased = recommend(service, campaign, 1), recommend(service, campaign, 2)
        service.erase(erased, DecisionContext(actor=ADMIN, at=REVIEWING, reason="本人申请删除"))
    finally:
        service.close()
    fresh = build_service(settings)
    try:
        fresh.person_keys.forget(erased)  # read from the table, not from what the start-up remembered
        fresh.person_keys.prefetch([kept, erased])
        assert fresh.get_contestant(kept).name == "选手1"
        assert fresh.get_contestant(erased).name == ERASED
        replay = AsOfViews(fresh, prefetch=fresh.person_keys.prefetch).at(campaign, REVIEWING)
        assert sorted(r.name for r in replay.roster.every(campaign)) == sorted(["选手1", ERASED])
    finally:
        fresh.close()


def test_a_person_read_while_being_erased_is_read_again(new_store: StoreFactory) -> None:
    """The erasure is recorded, then the key destroyed: a read between the two keeps nothing of them."""
    service = build_service(new_store(cipher_key=SecretStr("C" * 43 + "=")))
    try:
        campaign = launch(service)
        contestant = recommend(service, campaign, 1)
        service.decide(contestant, decisions.ERASE, DecisionContext(actor=ADMIN, at=REVIEWING, reason="删除"))
        views = AsOfViews(service)
        between = views.at(campaign, shanghai(2021, 6, 15)).roster.every(campaign)
        assert [r.name for r in between] == ["选手1"]  # the key is not destroyed yet
        service.person_keys.destroy(contestant)
        after = views.at(campaign, shanghai(2021, 6, 16)).roster.every(campaign)
        assert [r.name for r in after] == [ERASED]
    finally:
        service.close()


def _counting(service: CampaignService) -> tuple[AsOfViews, list[UUID]]:
    """As-of views that note the contestants of every page of nominations they decode."""
    decoded: list[UUID] = []

    def prefetch(ids: Any) -> None:
        decoded.extend(ids)
        service.person_keys.prefetch(ids)

    return AsOfViews(service, prefetch=prefetch), decoded


def test_a_warmed_campaign_is_read_without_decoding_it_again_and_erasures_after_it_show(
    new_store: StoreFactory,
) -> None:
    service = build_service(new_store(cipher_key=SecretStr("D" * 43 + "=")))
    try:
        campaign = launch(service)
        erased, kept = recommend(service, campaign, 1), recommend(service, campaign, 2)
        views, decoded = _counting(service)
        said: list[str] = []
        views.warm_in_background(lambda: campaign, said.append)
        assert views.warmed(timeout=30)
        assert sorted(decoded, key=str) == sorted([erased, kept], key=str)
        assert len(said) == 1
        assert "decoded" in said[0]
        decoded.clear()
        names = [r.name for r in views.at(campaign, REVIEWING).roster.every(campaign)]
        assert sorted(names) == ["选手1", "选手2"]
        assert decoded == []  # found kept
        service.erase(erased, DecisionContext(actor=ADMIN, at=REVIEWING, reason="本人申请删除"))
        after = views.at(campaign, shanghai(2021, 6, 15)).roster.every(campaign)
        rows = {r.contestant_id: r for r in after}
        assert (rows[erased].name, rows[erased].id_number, rows[erased].account) == (ERASED, ERASED, ERASED)
        assert rows[kept].name == "选手2"
        assert "*" in rows[kept].id_number  # masked as ever
    finally:
        service.close()


def test_a_warm_up_keeps_nothing_past_the_bound_nor_in_place_of_a_campaign_read(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, other = launch(service), launch(service, "另一届")
    people = {recommend(service, campaign, seq) for seq in range(1, 4)}
    recommend(service, other, 9)
    views, decoded = _counting(service)
    views.at(other, REVIEWING)
    assert views.warm(campaign) is False  # the campaign a reader asked for stays kept
    decoded.clear()
    views.at(other, RECOMMENDING)
    assert decoded == []
    views.close()

    bounded, decoded = _counting(service)
    monkeypatch.setattr("projections.asof.KEPT_EVENTS", 2)
    assert bounded.warm(campaign) is False
    decoded.clear()
    names = [r.name for r in bounded.at(campaign, REVIEWING).roster.every(campaign)]
    assert sorted(names) == ["选手1", "选手2", "选手3"]
    assert people <= set(decoded)  # nothing of the warm-up was kept: read in full


def test_a_warm_up_that_cannot_reach_the_store_says_so_and_ends(service: CampaignService) -> None:
    def unreachable() -> UUID:
        raise StoreUnavailable("the event store is unreachable: connection refused")

    views = AsOfViews(service)
    said: list[str] = []
    views.warm_in_background(unreachable, said.append)
    assert views.warmed(timeout=10)
    assert said == [
        "as-of: warm-up skipped (StoreUnavailable: the event store is unreachable: connection refused)"
    ]
    campaign = launch(service)
    recommend(service, campaign, 1)
    assert [r.name for r in views.at(campaign, REVIEWING).roster.every(campaign)] == ["选手1"]


def test_instants_past_the_latest_event_share_one_replay_until_the_log_moves(
    service: CampaignService,
) -> None:
    campaign = launch(service)
    first = recommend(service, campaign, 1)
    service.decide(first, decisions.VERIFY, DecisionContext(actor=ADMIN, at=REVIEWING))
    views = AsOfViews(service)
    late, later = REVIEWING + timedelta(days=1), REVIEWING + timedelta(days=9)
    one, other = views.at(campaign, late), views.at(campaign, later)
    assert other.db is one.db  # the second instant is served by the first's replay
    assert (one.as_of, other.as_of) == (late, later)  # each answer names its own instant
    assert other.roster.dump() == AsOfViews(service).at(campaign, later).roster.dump()
    before = views.at(campaign, REVIEWING - timedelta(minutes=1))  # before the latest event: its own
    assert before.db is not one.db
    assert [r.status for r in before.roster.every(campaign)] == ["nominated"]

    recommend(service, campaign, 2, at=REVIEWING + timedelta(days=2))  # the log moved
    moved = views.at(campaign, later)
    assert moved.db is not one.db
    assert sorted((r.name, r.status) for r in moved.roster.every(campaign)) == [
        ("选手1", "verified"),
        ("选手2", "nominated"),
    ]
    between = views.at(campaign, late)  # now before the latest event: not the replay past it
    assert between.db is not moved.db
    assert [r.name for r in between.roster.every(campaign)] == ["选手1"]


def test_an_erasure_after_a_shared_replay_hides_the_person_at_every_instant(new_store: StoreFactory) -> None:
    service = build_service(new_store(cipher_key=SecretStr("E" * 43 + "=")))
    try:
        campaign = launch(service)
        contestant = recommend(service, campaign, 1)
        views = AsOfViews(service)
        past_all = RECOMMENDING + timedelta(days=2)
        assert [r.name for r in views.at(campaign, past_all).roster.every(campaign)] == ["选手1"]
        service.erase(contestant, DecisionContext(actor=ADMIN, at=REVIEWING, reason="本人申请删除"))
        for at in (past_all, RECOMMENDING + timedelta(days=3), REVIEWING + timedelta(days=1)):
            rows = views.at(campaign, at).roster.every(campaign)
            assert [(r.name, r.id_number, r.account) for r in rows] == [(ERASED, ERASED, ERASED)], at
    finally:
        service.close()


def test_a_warm_up_leaves_the_views_past_the_latest_event_ready(
    service: CampaignService, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = launch(service)
    recommend(service, campaign, 1)
    recommend(service, campaign, 2, at=RECOMMENDING + timedelta(hours=3))
    views = AsOfViews(service)
    assert views.warm(campaign) is True
    replays: list[int] = []
    replay = AsOfViews._replay

    def counted(self: AsOfViews, *args: Any, **kwargs: Any) -> Any:
        replays.append(1)
        return replay(self, *args, **kwargs)

    monkeypatch.setattr(AsOfViews, "_replay", counted)
    rows = views.at(campaign, REVIEWING).roster.every(campaign)
    assert sorted(r.name for r in rows) == ["选手1", "选手2"]
    assert replays == []  # the warm-up's replay answered
    views.at(campaign, RECOMMENDING + timedelta(hours=1))
    assert replays == [1]  # an instant before the latest event is replayed
