"""Public self-registration: no token, only while the channel is open, rate-limited.

Taken or repeating a registered ID number or a claimed account, a registration is answered
alike (202 with a receipt); a repeat is put before the organisers on the audit trail.
"""

from __future__ import annotations

import asyncio
import time

from eventsourcing.domain import Aggregate
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ApiSettingsDep, PublicDecisionDep, PublicIdempotencyDep, RegistrationLimiter, ServiceDep
from api.problems import responses
from api.readmodel import withhold_log_position
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
async def register(
    cid: CampaignId,
    body: Registration,
    request: Request,
    service: ServiceDep,
    settings: ApiSettingsDep,
    context: PublicDecisionDep,
    limiter: RegistrationLimiter,
    idem: PublicIdempotencyDep,
) -> JSONResponse:
    """A veteran or a family member registers themselves while self-registration is open.

    Every answer takes at least ``ZHANYOU_REGISTRATION_FLOOR_MS``: a taken registration and
    a repeat do alike work, and the floor hides what difference is left (waited without
    holding a worker thread).
    """
    started = time.monotonic()
    withhold_log_position(request)

    def decide() -> RegistrationReceived:
        return RegistrationReceived(
            receipt=register_person(service, cid, person_of(body), context), message=RECEIVED
        )

    def kept(saved: Aggregate) -> RegistrationReceived:
        return RegistrationReceived(receipt=receipt(service, saved), message=RECEIVED)

    def answer() -> JSONResponse:
        limiter.check(request.client.host if request.client else "unknown")
        return idem.answer(status.HTTP_202_ACCEPTED, body, decide, kept)

    try:
        return await run_in_threadpool(answer)
    finally:
        left = settings.registration_floor_ms / 1000 - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)
