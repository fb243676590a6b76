"""Public self-registration: no token, only while the channel is open, rate-limited.

Taken or repeating a registered ID number or a claimed account, a registration is answered
alike (202 with a receipt); a repeat is put before the organisers on the audit trail.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from api.deps import PublicDecisionDep, PublicIdempotencyDep, RegistrationLimiter, ServiceDep
from api.problems import responses
from api.routers.campaigns import CampaignId
from api.schemas import Registration, RegistrationReceived
from api.views import person_of
from application.registration import receipt
from application.registration import register as register_person
from domain.registrations import RECEIVED

router = APIRouter(prefix="/api/campaigns", tags=["registrations"])


@router.post(
    "/{cid}/registrations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegistrationReceived,
    responses=responses(404, 409, 422, 429, 503),
)
def register(
    cid: CampaignId,
    body: Registration,
    request: Request,
    service: ServiceDep,
    context: PublicDecisionDep,
    limiter: RegistrationLimiter,
    idem: PublicIdempotencyDep,
) -> JSONResponse:
    """A veteran or a family member registers themselves while self-registration is open."""
    limiter.check(request.client.host if request.client else "unknown")

    def decide() -> RegistrationReceived:
        return RegistrationReceived(
            receipt=register_person(service, cid, person_of(body), context), message=RECEIVED
        )

    def kept(saved: Aggregate) -> RegistrationReceived:
        return RegistrationReceived(receipt=receipt(saved), message=RECEIVED)

    return idem.answer(status.HTTP_202_ACCEPTED, body, decide, kept)
