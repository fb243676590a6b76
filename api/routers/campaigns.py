"""Campaigns: launch, read, amend the timeline, open and close phases by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, DecisionDep, IdempotencyDep, Now, ServiceDep
from api.exports import masked_name
from api.idempotency import rendered
from api.problems import responses
from api.readmodel import AsOfQuery
from api.schemas import (
    CampaignCreate,
    CampaignOut,
    ContestantRef,
    Override,
    Recommendation,
    RetentionAmend,
    RetentionCandidateOut,
    RetentionPlanOut,
    TimelineAmend,
)
from api.views import campaign_out, contestant_ref, person_of, timeline_changes
from application.service import CampaignService
from domain.ages import AgeRule
from domain.awards import AwardRules
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.retention import RetentionPolicy
from domain.timeline import PhaseCode, Timeline, Window
from domain.values import Channel, Group

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])

CampaignId = Annotated[UUID, Path(description="the campaign's id")]
Code = Annotated[PhaseCode, Path(description="a phase or channel code")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    responses=responses(401, 403, 409, 422, 503),
)
def launch(
    body: CampaignCreate, service: ServiceDep, context: DecisionDep, idem: IdempotencyDep
) -> JSONResponse:
    """Launch from the template (shifted to ``start``) and/or an explicit timeline."""
    now = context.at

    def decide() -> CampaignOut:
        changes = timeline_changes(body.timeline or {})
        ages = {
            Group(group): AgeRule(rule.min_age, rule.max_age)
            for group, rule in (body.age_rules or {}).items()
        }
        given = body.awards
        awards = AwardRules(tuple(given.individual), tuple(given.team), given.score_max) if given else None
        retention = RetentionPolicy(body.retention.erase_after_days) if body.retention else None
        if body.timeline is not None and body.template is None and body.start is None:
            explicit = Timeline({code: Window(None, None) for code in PhaseCode}).amended(changes)
            campaign_id = service.launch_campaign(
                body.name,
                context,
                template=None,
                timeline=explicit,
                age_rules=ages,
                awards=awards,
                retention=retention,
            )
        else:
            campaign_id = service.launch_campaign(
                body.name,
                context,
                template=body.template or "hubei-2021",
                start=body.start,
                changes=changes or None,
                age_rules=ages,
                awards=awards,
                retention=retention,
            )
        return campaign_out(service.get_campaign(campaign_id), now)

    return idem.answer(
        status.HTTP_201_CREATED, body, decide, rendered(Campaign, lambda c: campaign_out(c, now))
    )


@router.get("/{cid}", response_model=CampaignOut, responses=responses(401, 404, 422, 503))
def get_campaign(
    cid: CampaignId,
    service: ServiceDep,
    actor: CurrentActor,
    response: Response,
    now: Now,
    as_of: AsOfQuery = None,
) -> CampaignOut:
    """The timeline with each window's status, the rule version and the quotas; the campaign's
    version is also the ``ETag``, for ``If-Match`` on its decisions.

    With ``as_of``, the campaign as it stood then (rule version, timeline, recorded phases),
    replayed from its events; each window's ``status`` is then the dates' at that instant.
    """
    if as_of is not None:
        answer = campaign_out(service.campaign_as_of(cid, as_of, now=now), as_of)
    else:
        answer = campaign_out(service.get_campaign(cid), now)
    response.headers["ETag"] = f'"{answer.version}"'
    return answer


@router.post(
    "/{cid}/timeline",
    response_model=CampaignOut,
    responses=responses(401, 403, 404, 409, 412, 422, 503),
)
def amend_timeline(
    cid: CampaignId,
    body: TimelineAmend,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Move dates, with a reason; the rule version goes up. With ``If-Match``, only on that
    version of the campaign (412 otherwise)."""
    now = context.at

    def decide() -> CampaignOut:
        decision = replace(context, reason=body.reason, evidence=body.evidence)
        service.amend_timeline(cid, timeline_changes(body.timeline), decision)
        return campaign_out(service.get_campaign(cid), now)

    return idem.answer(status.HTTP_200_OK, body, decide, rendered(Campaign, lambda c: campaign_out(c, now)))


@router.post(
    "/{cid}/retention",
    response_model=CampaignOut,
    responses=responses(401, 403, 404, 409, 412, 422, 503),
)
def set_retention(
    cid: CampaignId,
    body: RetentionAmend,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Organisers set, change or drop how long personal data are kept, with a reason; the rule
    version goes up. The scheduler erases them at 00:00 Asia/Shanghai, the given number of days
    after the ceremony ends. With ``If-Match``, only on that version of the campaign."""
    now = context.at

    def decide() -> CampaignOut:
        days = body.erase_after_days
        policy = None if days is None else RetentionPolicy(days)
        service.set_retention(cid, policy, replace(context, reason=body.reason, evidence=body.evidence))
        return campaign_out(service.get_campaign(cid), now)

    return idem.answer(status.HTTP_200_OK, body, decide, rendered(Campaign, lambda c: campaign_out(c, now)))


@router.get("/{cid}/retention", response_model=RetentionPlanOut, responses=responses(401, 403, 404, 422, 503))
def retention_plan(cid: CampaignId, service: ServiceDep, actor: CurrentActor) -> RetentionPlanOut:
    """The dry run of the retention policy: who would be erased, and when; nothing is erased."""
    plan = service.retention_plan(cid, actor)
    return RetentionPlanOut(
        campaign_id=cid,
        state=plan.state,
        erase_after_days=plan.policy.erase_after_days if plan.policy else None,
        due=plan.due,
        carried_out_at=plan.carried_out_at,
        rule=plan.policy.describe(plan.rule_version) if plan.policy else None,
        total=len(plan.people),
        contestants=[
            RetentionCandidateOut(
                id=person.contestant_id,
                city=person.city,
                group=person.group,
                channel=person.channel,
                name=masked_name(person.name),
                nominated_at=person.nominated_at,
            )
            for person in plan.people
        ],
    )


def _override(
    verb: str, act: Callable[[CampaignService], Callable[..., None]]
) -> Callable[..., JSONResponse]:
    def endpoint(
        cid: CampaignId,
        code: Code,
        body: Override,
        service: ServiceDep,
        context: DecisionDep,
        idem: IdempotencyDep,
    ) -> JSONResponse:
        now = context.at

        def decide() -> CampaignOut:
            act(service)(cid, code, replace(context, reason=body.reason, evidence=body.evidence))
            return campaign_out(service.get_campaign(cid), now)

        return idem.answer(
            status.HTTP_200_OK, body, decide, rendered(Campaign, lambda c: campaign_out(c, now))
        )

    endpoint.__name__ = f"{verb}_phase"
    endpoint.__doc__ = (
        f"Organiser override: {verb} a phase or channel now. With ``If-Match``, only on that "
        "version of the campaign."
    )
    return endpoint


for _verb, _act in (("open", lambda s: s.open_phase), ("close", lambda s: s.close_phase)):
    router.post(
        f"/{{cid}}/phases/{{code}}/{_verb}",
        response_model=CampaignOut,
        responses=responses(401, 403, 404, 409, 412, 422, 503),
    )(_override(_verb, _act))


@router.post(
    "/{cid}/contestants",
    status_code=status.HTTP_201_CREATED,
    response_model=ContestantRef,
    responses=responses(401, 403, 404, 409, 422, 503),
)
def recommend(
    cid: CampaignId,
    body: Recommendation,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A city bureau (or the organisers) recommends one person, within the city's quota.

    A withdrawn person may be recommended again while recommendation is open: the same
    contestant, back to review, the place taken again (``Renominated``)."""

    def decide() -> ContestantRef:
        decision = replace(context, reason=body.reason, evidence=body.evidence)
        contestant = service.nominate(
            cid, person_of(body), Channel.RECOMMENDED, decision, unit=body.unit, contact=body.contact
        )
        return contestant_ref(contestant)

    return idem.answer(status.HTTP_201_CREATED, body, decide, rendered(Contestant, contestant_ref))
