"""Importing a city's recommendation form: every row nominated on its own, every row reported."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from application.errors import ApplicationError, NotFound
from application.recommendation_form import FormRow, FormUnreadable, read_form
from application.service import CampaignService
from domain.errors import DomainError, InvalidValue, NotPermitted
from domain.lifecycle import MOVES_BY_TRIGGER
from domain.text import check_text
from domain.values import CITY_QUOTAS, Account, Actor, Channel, Group, Person

Outcome = Literal["created", "unchanged", "refused"]


@dataclass(frozen=True)
class RowReport:
    line: int
    name: str
    outcome: Outcome
    rule: str | None = None
    detail: str | None = None
    contestant_id: UUID | None = None


@dataclass(frozen=True)
class ImportReport:
    filename: str
    unit: str | None
    group: Group
    rows: list[RowReport]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.outcome for row in self.rows)
        return {outcome: found[outcome] for outcome in ("created", "unchanged", "refused")}


def import_recommendations(
    service: CampaignService,
    campaign_id: UUID,
    content: bytes,
    filename: str,
    *,
    actor: Actor,
    at: datetime,
    group: str | None = None,
    unit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Nominate each row of the form by recommendation; a file read twice creates nothing new.

    A file that is not a readable form is refused whole before anything is written; each
    row is then one atomic nomination, refused with the rule it broke or created.
    """
    recommend = MOVES_BY_TRIGGER["recommend"]
    if actor.role not in recommend.roles:
        allowed = ", ".join(sorted(role.value for role in recommend.roles))
        raise NotPermitted(f"import: the role {actor.role} may not recommend (allowed: {allowed})")
    form = read_form(content, filename)
    group_text = group or form.group
    if not group_text:
        raise FormUnreadable(f"{filename}: the form names no 参赛组别 (group); give the group")
    try:
        chosen = Group.parse(group_text)
    except InvalidValue as error:
        raise FormUnreadable(f"{filename}: {error.detail}") from None
    service.get_campaign(campaign_id)  # an unknown campaign refuses the whole file
    recommending_unit = unit or form.unit
    reports: list[RowReport] = []
    for done, row in enumerate(form.rows, start=1):
        reports.append(
            _import_row(service, campaign_id, row, chosen, recommending_unit, form.contact, actor, at)
        )
        if progress is not None:
            progress(done, len(form.rows))
    return ImportReport(filename, recommending_unit, chosen, reports)


def _import_row(
    service: CampaignService,
    campaign_id: UUID,
    row: FormRow,
    group: Group,
    unit: str | None,
    contact: str | None,
    actor: Actor,
    at: datetime,
) -> RowReport:
    try:
        if row.problems:
            raise InvalidValue.many(row.problems)
        check_text({"unit": unit, "contact": contact})  # the form's header, refused with each row
        person = Person.parse(
            name=row.name,
            id_number=row.id_number,
            mobile=row.mobile,
            city=row.city or _city_of(unit) or actor.city or "",
            group=group.value,
            platform=row.platform,
            account=row.account,
            followers=row.followers or 0,
            experience=row.experience,
            notes=row.notes,
        )
        already = _already_imported(service, campaign_id, person)
        if already is not None:
            return RowReport(
                row.line, row.name, "unchanged", contestant_id=already, detail="already imported"
            )
        contestant = service.nominate(
            campaign_id, person, Channel.RECOMMENDED, actor=actor, at=at, unit=unit, contact=contact
        )
    except (DomainError, ApplicationError) as refusal:
        return RowReport(row.line, row.name, "refused", refusal.rule, refusal.detail)
    return RowReport(row.line, row.name, "created", contestant_id=contestant.id)


def _already_imported(service: CampaignService, campaign_id: UUID, person: Person) -> UUID | None:
    """The same person with the same account is this row imported before, not a duplicate."""
    try:
        existing = service.find_contestant(campaign_id, person.id_number.value)
    except NotFound:
        return None
    same_account = Account.parse(existing.platform, existing.account).key == person.account.key
    return existing.id if existing.name == person.name and same_account else None


def _city_of(unit: str | None) -> str | None:
    """ "武汉市退役军人事务局" names its city."""
    if not unit:
        return None
    return next((city for city in CITY_QUOTAS if city.removesuffix("市") in unit), None)
