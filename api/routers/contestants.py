"""One contestant: read (masked), history, personal data (recorded), and every decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyDep, Now, ServiceDep
from api.problems import responses
from api.schemas import (
    Advance,
    Award,
    ContestantOut,
    Decide,
    HistoryEntryOut,
    Instant,
    PersonalData,
    Results,
    TrainingAccount,
)
from api.views import contestant_out
from application.service import CampaignService
from domain.access import require_may_read, require_may_read_history
from domain.team import TeamRole

router = APIRouter(prefix="/api/contestants", tags=["contestants"])

ContestantId = Annotated[UUID, Path(description="the contestant's id")]
WRITE_PROBLEMS = responses(401, 403, 404, 409, 412, 422, 503)


@router.get("/{id}", response_model=ContestantOut, responses=responses(401, 403, 404, 422, 503))
def get_contestant(
    id: ContestantId,
    service: ServiceDep,
    actor: CurrentActor,
    response: Response,
    as_of: Annotated[Instant | None, Query(description="the state as it was at this instant")] = None,
) -> ContestantOut:
    """Current state (or as it was at ``as_of``), ID and mobile numbers masked."""
    contestant = service.get_contestant(id, as_of=as_of)
    require_may_read(actor, contestant.city)
    response.headers["ETag"] = f'"{contestant.version}"'
    return contestant_out(contestant)


@router.get(
    "/{id}/history", response_model=list[HistoryEntryOut], responses=responses(401, 403, 404, 422, 503)
)
def history(id: ContestantId, service: ServiceDep, actor: CurrentActor) -> list[HistoryEntryOut]:
    """Every decision in order: type, time, actor, role, city, reason, evidence, rule version, changes."""
    entries = service.history(id)
    require_may_read_history(actor, service.get_contestant(id).city)
    return [HistoryEntryOut.model_validate(entry, from_attributes=True) for entry in entries]


@router.get("/{id}/pii", response_model=PersonalData, responses=responses(401, 403, 404, 422, 503))
def personal_data(id: ContestantId, service: ServiceDep, actor: CurrentActor, now: Now) -> PersonalData:
    """Unmasked numbers, for organisers and the contestant's own city staff; every read is recorded."""
    contestant = service.read_personal_data(id, actor=actor, at=now)
    return PersonalData(
        id=contestant.id, name=contestant.name, id_number=contestant.id_number, mobile=contestant.mobile
    )


def _answer(
    service: CampaignService, idem: IdempotencyDep, id: UUID, body: Decide, act: Callable[[], int]
) -> JSONResponse:
    def decide() -> ContestantOut:
        version = act()
        return contestant_out(service.get_contestant(id, version=version))

    return idem.answer(200, body, decide)


@router.post("/{id}/verify", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def verify(
    id: ContestantId, body: Decide, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Organisers confirm eligibility."""
    return _answer(service, idem, id, body, lambda: service.verify(
        id, actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/reject", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def reject(
    id: ContestantId, body: Decide, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Organisers refuse eligibility, with a reason; the places are freed."""
    return _answer(service, idem, id, body, lambda: service.reject(
        id, actor=actor, at=now, reason=body.reason or "", evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/training-account", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def training_account(
    id: ContestantId, body: TrainingAccount, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Organisers assign the training-platform account."""
    return _answer(service, idem, id, body, lambda: service.assign_training_account(
        id, body.training_account, actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/trained", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def trained(
    id: ContestantId, body: Decide, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Judges (or organisers) record that the training is done."""
    return _answer(service, idem, id, body, lambda: service.record_training(
        id, actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/results", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def results(
    id: ContestantId, body: Results, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Judges record the scores of the three contest events."""
    return _answer(service, idem, id, body, lambda: service.record_results(
        id, body.scores.model_dump(), actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/advance", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def advance(
    id: ContestantId, body: Advance, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Pick the contestant for the city's finals team."""
    return _answer(service, idem, id, body, lambda: service.advance(
        id, TeamRole.parse(body.role), actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/award", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def award(
    id: ContestantId, body: Award, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Organisers record an award."""
    return _answer(service, idem, id, body, lambda: service.award(
        id, body.award, actor=actor, at=now, reason=body.reason, evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/withdraw", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def withdraw(
    id: ContestantId, body: Decide, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """The contestant leaves (recorded by their city or the organisers), with a reason."""
    return _answer(service, idem, id, body, lambda: service.withdraw(
        id, actor=actor, at=now, reason=body.reason or "", evidence=body.evidence,
        expected_version=expected))  # fmt: skip


@router.post("/{id}/disqualify", response_model=ContestantOut, responses=WRITE_PROBLEMS)
def disqualify(
    id: ContestantId, body: Decide, service: ServiceDep, actor: CurrentActor, now: Now,
    idem: IdempotencyDep, expected: ExpectedVersion,
) -> JSONResponse:  # fmt: skip
    """Organisers disqualify, with a reason."""
    return _answer(service, idem, id, body, lambda: service.disqualify(
        id, actor=actor, at=now, reason=body.reason or "", evidence=body.evidence,
        expected_version=expected))  # fmt: skip
