"""Public self-registration: one answer whether the registration was taken or repeats someone.

A repeated ID number or a claimed account is not refused to the anonymous registrant (that
would tell anyone who is registered); it is recorded as a ``DuplicateRegistration`` on the
audit trail for the organisers, and the registrant gets a receipt like any other. Both paths
read the campaign and the same uniqueness records and end in one save, so their timing is
alike too.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from application.errors import StoreUnavailable
from application.recorders import UNCHANGED
from application.service import CampaignService
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import DuplicateAccount, DuplicatePerson
from domain.ids import account_claim_id, allotment_id, contestant_id
from domain.places import AccountClaim, scopes_of
from domain.registrations import DuplicateRegistration, receipt_of
from domain.values import Channel, Person


def register(service: CampaignService, campaign_id: UUID, person: Person, context: DecisionContext) -> UUID:
    """Self-register ``person``; the receipt, whether taken or recorded as a repeat for review."""
    try:
        contestant = service.nominate(campaign_id, person, Channel.SELF, context)
    except (DuplicatePerson, DuplicateAccount) as repeat:
        return _record_repeat(service, campaign_id, person, repeat.rule, context)
    return receipt_of(contestant.id)


def receipt(saved: Aggregate) -> UUID:
    """The receipt of a registration, from what it saved first (the contestant, or the repeat)."""
    return receipt_of(saved.id) if isinstance(saved, Contestant) else saved.id


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
        raise StoreUnavailable(f"the event store is unreachable: {error}") from None
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
        raise StoreUnavailable(f"the event store is unreachable: {error}") from None
    return found
