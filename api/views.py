"""Aggregates to response bodies; personal numbers leave masked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from api.schemas import (
    CampaignOut,
    ContestantOut,
    ContestantRef,
    Nomination,
    RetentionOut,
    WindowIn,
    WindowOut,
)
from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.errors import InvalidValue
from domain.timeline import PhaseCode, Side
from domain.values import Person, mask_free_text
from projections.audit import AuditEntry


def campaign_out(campaign: Campaign, now: datetime) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        version=campaign.version,
        template=campaign.template,
        rule_version=campaign.rule_version,
        timeline={
            code.value: WindowOut(
                opens=campaign.timeline[code].opens,
                closes=campaign.timeline[code].closes,
                status=campaign.status_at(code, now),
                recorded=campaign.phase_status[code],
            )
            for code in PhaseCode
        },
        quotas=campaign.quotas,
        caps=campaign.caps,
        age_rules={group.value: rule.to_data() for group, rule in campaign.age_rules.items()},
        awards=campaign.awards.to_data(),
        retention=None
        if campaign.retention is None
        else RetentionOut(
            erase_after_days=campaign.retention.erase_after_days,
            due=campaign.retention_due,
            carried_out_at=campaign.retention_done,
        ),
    )


def contestant_ref(contestant: Contestant) -> ContestantRef:
    return ContestantRef(id=contestant.id, version=contestant.version, status=contestant.status.value)


def contestant_out(contestant: Contestant) -> ContestantOut:
    return ContestantOut(
        id=contestant.id,
        campaign_id=contestant.campaign_id,
        version=contestant.version,
        status=contestant.status.value,
        channel=contestant.channel.value,
        group=contestant.group.value,
        city=contestant.city,
        name=contestant.name,
        id_number=contestant.masked_id_number,
        mobile=contestant.masked_mobile,
        platform=contestant.platform,
        account=contestant.account,
        followers=contestant.followers,
        experience=contestant.experience,
        notes=contestant.notes,
        unit=contestant.unit,
        contact=contestant.contact,
        training_account=contestant.training_account,
        results=contestant.results,
        team_role=contestant.team_role,
        award=contestant.award,
        awards=list(getattr(contestant, "awards", [])),
        nominated_at=contestant.created_on,
        modified_at=contestant.modified_on,
    )


def timeline_changes(timeline: Mapping[PhaseCode, WindowIn]) -> dict[PhaseCode, dict[Side, datetime | None]]:
    """Only the sides a client sent: an edge left out keeps its instant."""
    changes: dict[PhaseCode, dict[Side, datetime | None]] = {}
    for code, window in timeline.items():
        edges: dict[Side, datetime | None] = {}
        if "opens" in window.model_fields_set:
            edges["opens"] = window.opens
        if "closes" in window.model_fields_set:
            edges["closes"] = window.closes
        changes[code] = edges
    return changes


def person_of(body: Nomination) -> Person:
    """The form's fields, validated by the domain (every bad field named, in the form's order)."""
    try:
        return _parsed(body)
    except InvalidValue as error:
        raise InvalidValue.many(type(body).in_form_order(error.problems)) from None


def _parsed(body: Nomination) -> Person:
    return Person.parse(
        name=body.name,
        id_number=body.id_number,
        mobile=body.mobile,
        city=body.city,
        group=body.group,
        platform=body.platform,
        account=body.account,
        followers=body.followers,
        experience=body.experience,
        notes=body.notes,
    )


def masked_entries(entries: Iterable[AuditEntry]) -> Iterator[AuditEntry]:
    """Audit entries for an export: ID and mobile numbers typed into a reason or evidence masked."""
    for entry in entries:
        yield replace(
            entry,
            reason=mask_free_text(entry.reason) if entry.reason else entry.reason,
            evidence=mask_free_text(entry.evidence) if entry.evidence else entry.evidence,
        )
