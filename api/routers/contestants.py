"""One contestant: read (masked), history and personal data (every read recorded)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse

from api.concealment import concealed, readable
from api.deps import CurrentActor, DecisionDep, IdempotencyDep, Now, ServiceDep
from api.problems import responses
from api.readmodel import AsOfQuery
from api.schemas import ContestantOut, Erase, HistoryEntryOut, PersonalData
from api.views import contestant_out
from application.service import require_past
from domain.access import may_read_audit, require_may_read, require_may_read_history

router = APIRouter(prefix="/api/contestants", tags=["contestants"])

ContestantId = Annotated[UUID, Path(description="the contestant's id")]


@router.get("/{id}", response_model=ContestantOut, responses=responses(401, 403, 404, 422, 503))
def get_contestant(
    id: ContestantId,
    service: ServiceDep,
    actor: CurrentActor,
    response: Response,
    now: Now,
    as_of: AsOfQuery = None,
) -> ContestantOut:
    """Current state (or as it was at ``as_of``), ID and mobile numbers masked."""
    contestant = readable(service, actor, id)  # 404 alike for unknown and unreadable ids
    if as_of is not None:
        contestant = service.get_contestant(id, as_of=require_past("as_of", as_of, now))
    require_may_read(actor, contestant.city)
    response.headers["ETag"] = f'"{contestant.version}"'
    return contestant_out(contestant)


@router.get(
    "/{id}/history", response_model=list[HistoryEntryOut], responses=responses(401, 403, 404, 422, 503)
)
def history(
    id: ContestantId, service: ServiceDep, actor: CurrentActor, now: Now, as_of: AsOfQuery = None
) -> list[HistoryEntryOut]:
    """Every decision in order: type, time, actor, role, city, reason, evidence, rule version, changes.

    Organisers and auditors also see every read of the person's numbers, granted or refused
    (``PersonalDataRead``, ``PersonalDataReadRefused``: who, when, which fields). With ``as_of``,
    the history up to that instant.
    """
    city = readable(service, actor, id).city
    until = require_past("as_of", as_of, now) if as_of is not None else None
    entries = service.history(id, as_of=until, reads=may_read_audit(actor))
    require_may_read_history(actor, city)
    return [HistoryEntryOut.model_validate(entry, from_attributes=True) for entry in entries]


@router.get("/{id}/pii", response_model=PersonalData, responses=responses(401, 403, 404, 422, 503))
def personal_data(id: ContestantId, service: ServiceDep, actor: CurrentActor, now: Now) -> PersonalData:
    """Unmasked numbers, for organisers and the contestant's own city staff; every read is recorded,
    a refused one too (who asked, when, for which fields)."""
    with concealed(service, actor, id):  # a role that may not read the contestant at all: 404
        contestant = service.read_personal_data(id, actor=actor, at=now)
    return PersonalData(
        id=contestant.id, name=contestant.name, id_number=contestant.id_number, mobile=contestant.mobile
    )


@router.post("/{id}/erase", response_model=ContestantOut, responses=responses(401, 403, 404, 409, 422, 503))
def erase(
    id: ContestantId, body: Erase, service: ServiceDep, context: DecisionDep, idem: IdempotencyDep
) -> JSONResponse:
    """Organisers erase the person's data (PIPL art. 47), with a reason: the record shows 已删除 where
    the name, numbers and account were; statuses, city, group and scores stay."""

    def decide() -> ContestantOut:
        with concealed(service, context.actor, id):
            version = service.erase(id, replace(context, reason=body.reason, evidence=body.evidence))
        return contestant_out(service.get_contestant(id, version=version))

    return idem.answer(200, body, decide)
