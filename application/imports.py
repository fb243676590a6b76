"""Importing a city's recommendation form: every row checked, nominated and reported.

Rows are read and checked first; the valid ones are then nominated a batch at a time, each
row decided in turn as on its own (all of a row's events or none), so the report is the one
a row-by-row import would give. A row only a nomination on its own can judge (a person or
account already taken) is nominated on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from application.combining import Nomination
from application.errors import ApplicationError, NotFound
from application.recommendation_form import (
    FormRow,
    FormSheet,
    FormUnreadable,
    RecommendationForm,
    read_sheets,
)
from application.service import CampaignService
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.errors import DomainError, InvalidValue, NotPermitted
from domain.lifecycle import MOVES_BY_TRIGGER
from domain.text import check_text
from domain.values import CITY_QUOTAS, Account, Actor, Channel, Group, Person

Outcome = Literal["created", "unchanged", "refused"]
BATCH_ROWS = 100  # one save each: a few hundred events, well within one transaction


@dataclass(frozen=True)
class RowReport:
    line: int
    name: str
    outcome: Outcome
    rule: str | None = None
    detail: str | None = None
    contestant_id: UUID | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class SheetReport:
    """What became of one sheet: imported, or skipped (empty, not a form, no group) and why."""

    name: str
    outcome: Literal["imported", "skipped"]
    group: Group | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ImportReport:
    filename: str
    unit: str | None
    group: Group
    rows: list[RowReport]
    sheets: list[SheetReport]

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
    sheets = read_sheets(content, filename)
    service.get_campaign(campaign_id)  # an unknown campaign refuses the whole file
    chosen = [(sheet, _group_of(sheet, group, filename)) for sheet in sheets]
    forms = [(sheet, found) for sheet, found in chosen if sheet.form is not None]
    if not any(isinstance(found, Group) for _, found in forms):
        raise FormUnreadable(next(str(found) for _, found in forms))  # the only problem there is
    todo = sum(len(sheet.form.rows) for sheet, found in forms if isinstance(found, Group) and sheet.form)
    reports: list[RowReport] = []
    sheet_reports: list[SheetReport] = []
    first: tuple[Group, str | None] | None = None
    for sheet, found in chosen:
        form = sheet.form
        if form is None or not isinstance(found, Group):
            detail = sheet.problem if form is None else str(found)
            sheet_reports.append(SheetReport(sheet.name, "skipped", detail=detail or "the sheet is empty"))
            continue
        recommending_unit = unit or form.unit
        first = first or (found, recommending_unit)
        sheet_reports.append(SheetReport(sheet.name, "imported", found))
        label = sheet.name if len(sheets) > 1 else None

        def advanced(done: int, _: int, before: int = len(reports)) -> None:
            if progress is not None:
                progress(before + done, todo)

        rows = _import_sheet(service, campaign_id, form, found, recommending_unit, actor, at, advanced)
        reports += [replace(report, sheet=label) for report in rows]
    group_of_file, unit_of_file = first or (Group.TRAINEE, unit)  # some sheet has a group: see above
    return ImportReport(filename, unit_of_file, group_of_file, reports, sheet_reports)


def _group_of(sheet: FormSheet, given: str | None, filename: str) -> Group | str:
    """The sheet's group (given, its 参赛组别, or its name, e.g. 退役军人组), or why there is none."""
    where = filename if sheet.name == filename else f"{filename}, sheet {sheet.name!r}"
    candidates = [given] if given else [sheet.form.group if sheet.form else None, sheet.name]
    for text in candidates:
        if not text:
            continue
        try:
            return Group.parse(text)
        except InvalidValue as error:
            if given or text != sheet.name:
                return f"{where}: {error.detail}"
    return f"{where}: the form names no 参赛组别 (group); give the group"


def _import_sheet(
    service: CampaignService,
    campaign_id: UUID,
    form: RecommendationForm,
    group: Group,
    recommending_unit: str | None,
    actor: Actor,
    at: datetime,
    progress: Callable[[int, int], None],
) -> list[RowReport]:
    """One sheet's rows: checked first, then nominated a batch at a time."""
    people = [_person(row, group, recommending_unit, form.contact, actor) for row in form.rows]
    reports: list[RowReport | None] = [p if isinstance(p, RowReport) else None for p in people]
    pending = [(n, p) for n, p in enumerate(people) if isinstance(p, Person)]
    done = len(form.rows) - len(pending)
    for start in range(0, len(pending), BATCH_ROWS):
        batch = pending[start : start + BATCH_ROWS]
        outcomes = _nominate_batch(
            service, campaign_id, [p for _, p in batch], recommending_unit, form.contact, actor, at
        )
        for (n, person), outcome in zip(batch, outcomes, strict=True):
            row = form.rows[n]
            if isinstance(outcome, Contestant):
                reports[n] = RowReport(row.line, row.name, "created", contestant_id=outcome.id)
            elif isinstance(outcome, DomainError):
                reports[n] = RowReport(row.line, row.name, "refused", outcome.rule, outcome.detail)
            else:  # only a nomination on its own can tell: a duplicate, or imported before
                reports[n] = _import_one(
                    service, campaign_id, row, person, recommending_unit, form.contact, actor, at
                )
        done += len(batch)
        progress(done, len(form.rows))
    return [r for r in reports if r is not None]


def _nominate_batch(
    service: CampaignService,
    campaign_id: UUID,
    people: list[Person],
    unit: str | None,
    contact: str | None,
    actor: Actor,
    at: datetime,
) -> list[Contestant | DomainError | None]:
    """Rows nominated together; a batch the store refused as a whole is left to row by row."""
    try:
        outcomes = service.nominate_together(
            campaign_id,
            [
                Nomination(p, Channel.RECOMMENDED, DecisionContext(actor=actor, at=at), unit, contact)
                for p in people
            ],
        )
    except ApplicationError:
        outcomes = None
    return [None] * len(people) if outcomes is None else outcomes


def _person(
    row: FormRow, group: Group, unit: str | None, contact: str | None, actor: Actor
) -> Person | RowReport:
    """The row as a valid person, or its refusal; nothing is read or written yet."""
    try:
        if row.problems:
            raise InvalidValue.many(row.problems)
        check_text({"unit": unit, "contact": contact})  # the form's header, refused with each row
        return Person.parse(
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
    except DomainError as refusal:
        return RowReport(row.line, row.name, "refused", refusal.rule, refusal.detail)


def _import_one(
    service: CampaignService,
    campaign_id: UUID,
    row: FormRow,
    person: Person,
    unit: str | None,
    contact: str | None,
    actor: Actor,
    at: datetime,
) -> RowReport:
    try:
        already = _already_imported(service, campaign_id, person)
        if already is not None:
            return RowReport(
                row.line, row.name, "unchanged", contestant_id=already, detail="already imported"
            )
        contestant = service.nominate(
            campaign_id,
            person,
            Channel.RECOMMENDED,
            DecisionContext(actor=actor, at=at),
            unit=unit,
            contact=contact,
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
