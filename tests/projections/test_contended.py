"""Under contention the quota view still agrees with the domain's own count."""

from __future__ import annotations

from functools import partial

from application.service import CampaignService
from application.settings import Settings
from domain.errors import QuotaFull
from domain.values import Group
from tests.integration.helpers import launch, race, recommend
from tests.projections.helpers import head, running_views

CITIES = ("武汉市", "黄石市")


def test_quota_view_equals_the_domain_after_a_contended_run(
    service: CampaignService, settings: Settings
) -> None:
    campaign = launch(service, quotas={city: {Group.TRAINEE: 5, Group.VETERAN: 3} for city in CITIES})
    with running_views(service, settings) as (views, runner):
        calls = [
            partial(
                recommend,
                service,
                campaign,
                seq,
                city=CITIES[seq % 2],
                group=("trainee", "veteran")[seq % 3 == 0],
            )
            for seq in range(1, 25)
        ]
        outcomes = race(calls)  # threads nominate while the runner projects
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert refused
        assert all(isinstance(o, QuotaFull) for o in refused)
        runner.wait(head(service), timeout=60)

        rows = views.quotas.quotas(campaign)
        assert {(r.city, r.group, r.active) for r in rows} == {
            (city, group, service.places_taken(campaign, f"quota:{city}:{group}"))
            for city in CITIES
            for group in ("trainee", "veteran")
        }
        assert {(r.city, r.group): r.active for r in rows} == {
            (city, group): limit for city in CITIES for group, limit in (("trainee", 5), ("veteran", 3))
        }
        for cap in views.quotas.caps(campaign):
            assert cap.active == service.places_taken(campaign, f"cap:{cap.group}")
        assert views.roster.query(campaign).total == len(outcomes) - len(refused) == 16
