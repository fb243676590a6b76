"""Re-adjudication: every recorded contestant decision put through the lifecycle table again.

A decision event says who took it, when and under which rule version. Replaying it means
asking ``domain.lifecycle.decide`` once more, with the campaign's timeline as it stood at
that rule version and the contestant's state just before: a decision the rules would
refuse was put in behind the application's back (or under a bug). Quotas and limits
across contestants are not re-checked here: those are the stored allotments' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from application.history import decisions_of
from application.service import CampaignService
from domain.campaign import Campaign
from domain.contestant import EVENT_OF_MOVE, Contestant
from domain.errors import DomainError
from domain.events import DecisionEvent
from domain.lifecycle import MOVES_BY_TRIGGER, Status, decide
from domain.timeline import Timeline
from domain.values import Channel, Group

#: The lifecycle move each recorded decision replays; a nomination's depends on its channel.
MOVE_OF_EVENT: dict[type[DecisionEvent], str] = {
    kind: trigger for trigger, kind in EVENT_OF_MOVE.items() if kind is not Contestant.Nominated
}


@dataclass(frozen=True)
class Finding:
    """A recorded decision that the rules in force at its rule version refuse.

    :ivar rule: the refusal's stable code (``phase_closed``, ``not_permitted``, ...).
    :ivar refusal: what the rule says, naming the window or the role.
    """

    contestant_id: UUID
    version: int
    decision: str
    at: datetime
    actor: str
    rule_version: int
    rule: str
    refusal: str


@dataclass(frozen=True)
class Readjudication:
    campaign_id: UUID
    contestants: int
    decisions: int
    findings: list[Finding]


def _trigger(event: DecisionEvent) -> str | None:
    if isinstance(event, Contestant.Nominated | Contestant.Renominated):  # from new or from withdrawn
        return "recommend" if Channel(event.channel) is Channel.RECOMMENDED else "register"
    return MOVE_OF_EVENT.get(type(event))


def timelines_by_rule_version(service: CampaignService, campaign_id: UUID) -> dict[int, Timeline]:
    """The campaign's timeline under each rule version it had (the last state of each)."""
    found: dict[int, Timeline] = {}
    head = service.get_campaign(campaign_id).version
    for version in range(1, head + 1):
        campaign: Campaign = service.repository.get(campaign_id, version=version)
        found[campaign.rule_version] = campaign.timeline
    return found


def contestants_of(service: CampaignService, campaign_id: UUID, batch: int = 2000) -> list[UUID]:
    """Every contestant nominated into the campaign, in the log's order."""
    found: list[UUID] = []
    start = 1
    topics = [get_topic(Contestant.Nominated)]
    while notifications := service.recorder.select_notifications(start=start, limit=batch, topics=topics):
        for notification in notifications:
            event = service.mapper.to_domain_event(notification)
            if isinstance(event, Contestant.Nominated) and event.campaign_id == campaign_id:
                found.append(event.originator_id)
        start = notifications[-1].id + 1
    return found


def readjudicate(service: CampaignService, campaign_id: UUID) -> Readjudication:
    timelines = timelines_by_rule_version(service, campaign_id)
    findings: list[Finding] = []
    contestants = contestants_of(service, campaign_id)
    decisions = 0
    for contestant_id in contestants:
        events = decisions_of(service.events.get(contestant_id))
        first = events[0]
        assert isinstance(first, Contestant.Nominated)  # noqa: S101 - found by its nomination
        city, group = first.person.city, first.person.group
        current = Status.NEW
        for event in events:
            trigger = _trigger(event)
            if trigger is None:
                continue
            decisions += 1
            finding = _judge(event, trigger, current, timelines, city, group, contestant_id)
            if finding is not None:
                findings.append(finding)
            current = MOVES_BY_TRIGGER[trigger].dest  # go on from what was recorded
    return Readjudication(campaign_id, len(contestants), decisions, findings)


def _judge(
    event: DecisionEvent,
    trigger: str,
    current: Status,
    timelines: dict[int, Timeline],
    city: str,
    group: Group,
    contestant_id: UUID,
) -> Finding | None:
    decision = event.decision
    at: datetime = event.timestamp
    timeline = timelines.get(decision.rule_version)

    def found(rule: str, refusal: str) -> Finding:
        return Finding(
            contestant_id,
            event.originator_version,
            trigger,
            at,
            decision.actor.user,
            decision.rule_version,
            rule,
            refusal,
        )

    if timeline is None:
        return found("unknown_rule_version", f"the campaign never had rule version {decision.rule_version}")
    try:
        decide(
            trigger,
            current=current,
            timeline=timeline,
            actor=decision.actor,
            at=at,
            city=city,
            group=group,
            reason=decision.reason,
        )
    except DomainError as refusal:
        return found(refusal.rule, refusal.detail)
    return None
