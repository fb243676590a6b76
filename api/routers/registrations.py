"""Public self-registration: no token, only while the channel is open, rate-limited."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from api.deps import PublicDecisionDep, PublicIdempotencyDep, RegistrationLimiter, ServiceDep
from api.idempotency import rendered
from api.problems import responses
from api.routers.campaigns import CampaignId
from api.schemas import ContestantRef, Registration
from api.views import contestant_ref, person_of
from domain.contestant import Contestant
from domain.values import Channel

router = APIRouter(prefix="/api/campaigns", tags=["registrations"])


@router.post(
    "/{cid}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=ContestantRef,
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

    def decide() -> ContestantRef:
        return contestant_ref(service.nominate(cid, person_of(body), Channel.SELF, context))

    return idem.answer(status.HTTP_201_CREATED, body, decide, rendered(Contestant, contestant_ref))
