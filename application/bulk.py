"""Bulk work for thousands of people: each item is one decision, taken and recorded on its own.

A bulk act never records all-or-nothing: every contestant is decided by the same service
method a single request uses, so each decision carries its own actor, reason and rule
version, and one refusal (already verified, wrong city, phase closed) stops only its row.
Every row is reported: done with the contestant's new version, or refused with its rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal
from uuid import UUID

from application import decisions
from application.errors import ApplicationError, ContestantNotFound, StoreUnavailable
from application.form_files import cell_text
from application.service import CampaignService
from application.tables import TableRow, read_table
from domain.contestant import CONTEST_EVENTS
from domain.decision import DecisionContext
from domain.errors import DomainError, InvalidValue, ReasonRequired
from domain.values import Actor

Outcome = Literal["done", "refused"]
ReviewVerdict = Literal["verify", "reject"]

_WHO = {
    "contestant": ("选手编号", "contestant_id"),
    "id_number": ("身份证", "id_number"),
    "name": ("姓名", "name"),  # only echoed in the report, so a clerk finds the row
}
TRAINING_COLUMNS = {**_WHO, "training_account": ("培训", "training_account")}
SCORE_COLUMNS = {
    **_WHO,
    "short_video": ("短视频", "short_video"),
    "account_operation": ("账号运营", "account_operation"),
    "livestream_selling": ("带货", "livestream_selling"),
}


@dataclass(frozen=True)
class BulkRow:
    line: int  # position in the list (from 1), or the row's number in its sheet
    outcome: Outcome
    contestant_id: UUID | None = None
    version: int | None = None
    rule: str | None = None
    detail: str | None = None
    sheet: str | None = None
    name: str | None = None  # as the sheet gives it


@dataclass(frozen=True)
class BulkReport:
    rows: list[BulkRow]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.outcome for row in self.rows)
        return {outcome: found[outcome] for outcome in ("done", "refused")}


def _one(
    line: int,
    decide: Callable[[], tuple[UUID, int]],
    row: TableRow | None = None,
    *,
    given: UUID | None = None,
) -> BulkRow:
    """One decision; a refusal is the row's outcome, with the contestant id ``given`` for it (a list
    names each by id). An unreachable store stops the whole act."""
    sheet = row.sheet if row else None
    name = (cell_text(row.cells.get("name")) or None) if row else None
    try:
        contestant_id, version = decide()
    except StoreUnavailable:
        raise
    except (DomainError, ApplicationError) as refusal:
        return BulkRow(
            line, "refused", given, rule=refusal.rule, detail=refusal.detail, sheet=sheet, name=name
        )
    return BulkRow(line, "done", contestant_id, version, sheet=sheet, name=name)


def _in_campaign(service: CampaignService, campaign_id: UUID, contestant_id: UUID) -> UUID:
    """A contestant of another campaign is not found here."""
    if service.get_contestant(contestant_id).campaign_id != campaign_id:
        raise ContestantNotFound(contestant_id)
    return contestant_id


def review(
    service: CampaignService,
    campaign_id: UUID,
    contestant_ids: Sequence[UUID],
    verdict: ReviewVerdict,
    context: DecisionContext,
) -> BulkReport:
    """Verify or reject a list of contestants with one reason and evidence (a rejection needs a reason)."""
    service.get_campaign(campaign_id)
    if verdict == "reject" and not (context.reason and context.reason.strip()):
        raise ReasonRequired("reject: a reason is required")

    def act(contestant_id: UUID) -> tuple[UUID, int]:
        checked = _in_campaign(service, campaign_id, contestant_id)
        command = decisions.VERIFY if verdict == "verify" else decisions.REJECT
        return checked, service.decide(checked, command, context)

    return BulkReport(
        [_one(line, partial(act, c), given=c) for line, c in enumerate(contestant_ids, start=1)]
    )


def _contestant_of(service: CampaignService, campaign_id: UUID, row: TableRow) -> UUID:
    """The row's contestant, by its 选手编号 (id) or its 身份证号 (ID number)."""
    given = cell_text(row.cells.get("contestant"))
    if given:
        try:
            return _in_campaign(service, campaign_id, UUID(given))
        except ValueError:
            raise InvalidValue("contestant_id", f"{given!r} is not a contestant id") from None
    number = cell_text(row.cells.get("id_number"))
    if not number:
        raise InvalidValue("contestant", "the row names no contestant (选手编号 or 身份证号)")
    return service.find_contestant(campaign_id, number).id


def assign_training_accounts(
    service: CampaignService, campaign_id: UUID, content: bytes, filename: str, *, actor: Actor, at: datetime
) -> BulkReport:
    """A sheet of contestants (选手编号 or 身份证号) and their 培训账号: one assignment per row."""
    service.get_campaign(campaign_id)
    table = read_table(content, filename, TRAINING_COLUMNS, ["training_account"])

    def act(row: TableRow) -> tuple[UUID, int]:
        contestant_id = _contestant_of(service, campaign_id, row)
        account = cell_text(row.cells.get("training_account"))
        command = decisions.assign_training_account(account)
        return contestant_id, service.decide(contestant_id, command, DecisionContext(actor=actor, at=at))

    return BulkReport([_one(row.line, partial(act, row), row) for row in table])


def record_score_sheet(
    service: CampaignService, campaign_id: UUID, content: bytes, filename: str, *, actor: Actor, at: datetime
) -> BulkReport:
    """A judges' score sheet: a row per contestant with the three contest events' scores."""
    service.get_campaign(campaign_id)
    table = read_table(content, filename, SCORE_COLUMNS, CONTEST_EVENTS)

    def act(row: TableRow) -> tuple[UUID, int]:
        contestant_id = _contestant_of(service, campaign_id, row)
        scores = {name: _score(name, row.cells.get(name)) for name in CONTEST_EVENTS}
        command = decisions.record_results(scores)
        return contestant_id, service.decide(contestant_id, command, DecisionContext(actor=actor, at=at))

    return BulkReport([_one(row.line, partial(act, row), row) for row in table])


def _score(name: str, value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(cell_text(value))
    except ValueError:
        raise InvalidValue(name, f"{cell_text(value)!r} is not a score") from None
