"""Each view against the scripted campaign, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.service import CampaignService
from application.settings import Settings
from domain.team import TeamRole
from projections import Views
from projections.runner import ProjectionRunner
from tests.projections.helpers import HUANGSHI, WUHAN, Script, head, running_views, scripted_campaign

Lifecycle = tuple[Script, Views, ProjectionRunner]


@pytest.fixture
def lifecycle(service: CampaignService, settings: Settings) -> Iterator[Lifecycle]:
    script = scripted_campaign(service)
    with running_views(service, settings) as (views, runner):
        runner.wait(head(service), timeout=30)
        yield script, views, runner


def test_roster_has_one_masked_row_per_contestant(lifecycle: Lifecycle, service: CampaignService) -> None:
    script, views, _ = lifecycle
    page = views.roster.query(script.campaign_id, page_size=100)
    assert page.total == 9
    by_seq = {seq: next(r for r in page.rows if r.contestant_id == cid) for seq, cid in script.ids.items()}
    assert {seq: r.status for seq, r in by_seq.items()} == {
        1: "awarded",
        2: "advanced",
        3: "withdrawn",
        4: "advanced",
        5: "advanced",
        6: "advanced",
        7: "disqualified",
        8: "competed",
        9: "rejected",
    }
    first = by_seq[1]
    assert (first.id_number, first.mobile) == ("420102********0014", "138****0001")
    assert (first.award, first.team_role, first.training_account) == ("一等奖", "streamer", "hb-train-0001")
    assert first.results == {"short_video": 80.0, "account_operation": 70.5, "livestream_selling": 90.0}
    assert by_seq[6].team_role == TeamRole.ASSISTANT
    assert by_seq[7].team_role is None
    for seq, row in by_seq.items():  # the view says what the aggregate says
        contestant = service.get_contestant(script.id(seq))
        assert (row.status, row.version, row.city, row.group) == (
            contestant.status.value,
            contestant.version,
            contestant.city,
            contestant.group.value,
        )
        assert contestant.id_number not in repr(row)
        assert contestant.mobile not in repr(row)


def test_roster_filters_search_sort_and_pages(lifecycle: Lifecycle) -> None:
    script, views, _ = lifecycle
    roster = views.roster
    assert {r.name for r in roster.query(script.campaign_id, city=HUANGSHI).rows} == {"选手8", "选手9"}
    assert {r.name for r in roster.query(script.campaign_id, group="veteran").rows} == {"选手4", "选手5"}
    assert [r.name for r in roster.query(script.campaign_id, status="rejected").rows] == ["选手9"]
    assert roster.query(script.campaign_id, platform="kuaishou").total == 0
    assert [r.name for r in roster.query(script.campaign_id, search="手7").rows] == ["选手7"]
    assert [r.name for r in roster.query(script.campaign_id, search="STREAMER3").rows] == ["选手3"]
    assert roster.query(script.campaign_id, search="100%").total == 0  # LIKE wildcards are literal
    by_time = roster.query(script.campaign_id, sort="time", descending=True).rows
    assert by_time[0].name == "选手1"  # the award is the last change
    pages = [roster.query(script.campaign_id, page=n, page_size=4) for n in (1, 2, 3)]
    names = [r.name for p in pages for r in p.rows]
    assert names == sorted(names)
    assert len(names) == len(set(names)) == 9
    assert [len(p.rows) for p in pages] == [4, 4, 1]


def test_quotas_agree_with_the_domain(lifecycle: Lifecycle, service: CampaignService) -> None:
    script, views, _ = lifecycle
    rows = {(q.city, q.group): q for q in views.quotas.quotas(script.campaign_id)}
    assert (rows[WUHAN, "trainee"].quota, rows[WUHAN, "trainee"].active) == (3, 2)  # 3 withdrew
    assert (rows[WUHAN, "trainee"].verified, rows[WUHAN, "trainee"].remaining) == (2, 1)
    assert (rows[WUHAN, "veteran"].active, rows[WUHAN, "veteran"].remaining) == (2, 0)
    assert (rows[HUANGSHI, "trainee"].active, rows[HUANGSHI, "trainee"].verified) == (1, 1)  # 9 rejected
    for (city, group), row in rows.items():
        assert row.active == service.places_taken(script.campaign_id, f"quota:{city}:{group}")
    caps = {c.group: c for c in views.quotas.caps(script.campaign_id)}
    assert {g: c.active for g, c in caps.items()} == {"trainee": 3, "veteran": 2, "family": 1}
    for group, cap in caps.items():
        assert cap.active == service.places_taken(script.campaign_id, f"cap:{group}")
        assert cap.remaining == cap.cap - cap.active
    together = views.quotas.fill(script.campaign_id)
    assert together == (views.quotas.quotas(script.campaign_id), views.quotas.caps(script.campaign_id))


def test_funnel_counts_stages_and_exits(lifecycle: Lifecycle) -> None:
    script, views, _ = lifecycle
    funnel = views.funnel.funnel(script.campaign_id)
    rows = {(r.city, r.group): r for r in funnel.rows}
    assert rows[WUHAN, "trainee"].reached == {
        "nominated": 3,
        "verified": 3,
        "trained": 2,
        "competed": 2,
        "advanced": 2,
        "awarded": 1,
    }
    assert rows[WUHAN, "trainee"].left == {"rejected": 0, "withdrawn": 1, "disqualified": 0}
    assert rows[WUHAN, "family"].left["disqualified"] == 1
    assert rows[HUANGSHI, "trainee"].left["rejected"] == 1
    assert funnel.total("nominated") == 9
    assert (funnel.finalists, funnel.trainee_finalists) == (5, 2)
    assert funnel.trainee_share == pytest.approx(0.4)


def test_teams_show_leader_assistant_streamers(lifecycle: Lifecycle) -> None:
    script, views, _ = lifecycle
    (team,) = views.teams.teams(script.campaign_id)
    assert (team.city, team.leader_name, team.leader_user) == (WUHAN, "王科长", "staff-武汉市")
    assert team.assistant is not None
    assert team.assistant.contestant_id == script.id(6)
    assert {m.contestant_id for m in team.streamers} == {script.id(s) for s in (1, 2, 4, 5)}
    assert team.complete


def test_phase_log_records_scheduled_and_actual(lifecycle: Lifecycle, service: CampaignService) -> None:
    script, views, _ = lifecycle
    log = views.phases.log(script.campaign_id)
    opened = [e for e in log if (e.code, e.side) == ("online_training", "opens")]
    assert len(opened) == 1
    assert opened[0].scheduled == "2021-07-09T16:00:00.000000+00:00"  # 10 Jul 00:00 Shanghai
    assert opened[0].actual == "2021-09-02T02:00:00.000000+00:00"  # when the scheduler saw it
    assert (opened[0].by, opened[0].user) == ("scheduler", "scheduler")
    campaign = service.get_campaign(script.campaign_id)
    assert {(e.code, e.side) for e in log} >= {("publicity", "opens"), ("contest", "closes")}
    assert len(log) == len(views.phases.log(campaign.id, code=None))
    assert all(e.side in ("opens", "closes") for e in log)


def test_positions_and_lag(lifecycle: Lifecycle, service: CampaignService) -> None:
    _, _, runner = lifecycle
    assert set(runner.positions().values()) == {head(service)}
    assert set(runner.lag().values()) == {0}
