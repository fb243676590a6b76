"""Public self-registration: one answer whether the registration was taken or repeats someone.

A repeated ID number or a claimed account is not refused to the anonymous registrant (that
would tell anyone who is registered); it is recorded as a ``DuplicateRegistration`` on the
audit trail for the organisers, and the registrant gets a receipt like any other. Both paths
read the campaign and the same uniqueness records and end in one save, so their timing is
alike too. Both receipts look alike (random-looking UUIDv4s), and both work at the status
look-up: a repeat's is answered as a registration just received, never with the status of
the contestant it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from application.errors import NotFound, StoreUnavailable
from application.recorders import UNCHANGED
from application.service import CampaignService
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import DuplicateAccount, DuplicatePerson
from domain.ids import account_claim_id, allotment_id, contestant_id
from domain.lifecycle import Status
from domain.places import AccountClaim, scopes_of
from domain.registrations import DuplicateRegistration, unkeyed_receipt_of
from domain.values import Channel, Person, ResidentId


def register(service: CampaignService, campaign_id: UUID, person: Person, context: DecisionContext) -> UUID:
    """Self-register ``person``; the receipt, whether taken or recorded as a repeat for review."""
    try:
        contestant = service.nominate(campaign_id, person, Channel.SELF, context)
    except (DuplicatePerson, DuplicateAccount) as repeat:
        return _record_repeat(service, campaign_id, person, repeat.rule, context)
    return service.receipt_for(contestant.id)


def receipt(service: CampaignService, saved: Aggregate) -> UUID:
    """The receipt of a registration, from what it saved first (the contestant, or the repeat)."""
    return service.receipt_for(saved.id) if isinstance(saved, Contestant) else saved.id


@dataclass(frozen=True)
class RegistrationStatus:
    status: str
    changed_at: datetime


def status_of(
    service: CampaignService, campaign_id: UUID, receipt: UUID, id_number: str
) -> RegistrationStatus:
    """The status a receipt and an ID number together show; ``NotFound`` unless they belong together.

    A contestant's own receipt shows their status. A repeat's receipt shows a registration just
    received (at the repeat's time), whatever became of the contestant it repeats. Both records
    are read whichever the receipt is, so the look-up takes alike for either.
    """
    number = ResidentId.parse(id_number).value
    try:
        contestant: Contestant | None = service.find_contestant(campaign_id, number)
    except NotFound:
        contestant = None
    repeat = _load(service, receipt)
    if contestant is not None and receipt in (
        service.receipt_for(contestant.id),
        unkeyed_receipt_of(contestant.id),
    ):
        return RegistrationStatus(contestant.status.value, contestant.modified_on)
    if (
        isinstance(repeat, DuplicateRegistration)
        and repeat.campaign_id == campaign_id
        and repeat.id_number == number
    ):
        return RegistrationStatus(Status.NOMINATED.value, repeat.created_on)
    raise NotFound("no registration has this receipt and ID number")


def _record_repeat(
    service: CampaignService, campaign_id: UUID, person: Person, rule: str, context: DecisionContext
) -> UUID:
    campaign = service.get_campaign(campaign_id)
    claim_id = account_claim_id(campaign_id, service.pseudonym(person.account.key))
    claimant = _claimant(service, claim_id)  # read on both kinds of repeat, as a taken one reads it
    if rule == DuplicatePerson.rule:
        matches: UUID | None = contestant_id(campaign_id, service.pseudonym(person.id_number.value))
    else:
        matches = claimant
    # A taken registration reads the places it takes; so does a repeat, to take as long.
    for scope in scopes_of(person.city, person.group, holds_quota_place=False):
        _load(service, allotment_id(campaign_id, scope))
    repeat = DuplicateRegistration.record(
        context,
        campaign_id=campaign_id,
        person=person,
        rule=rule,
        matches=matches,
        rule_version=campaign.rule_version,
    )
    try:  # a new random id conflicts with nothing; the campaign check is the one a taken one passes
        service.save(repeat, **{UNCHANGED: (campaign.id, campaign.version)})
    except IntegrityError:  # the campaign moved meanwhile: the repeat is recorded all the same
        service.save(repeat)
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable("the event store is unreachable", str(error)) from None
    return repeat.id


def _claimant(service: CampaignService, claim_id: UUID) -> UUID | None:
    claim = _load(service, claim_id)
    return claim.contestant_id if isinstance(claim, AccountClaim) else None


def _load(service: CampaignService, aggregate_id: UUID) -> object | None:
    try:
        found: object = service.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable("the event store is unreachable", str(error)) from None
    return found
