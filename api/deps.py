"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import authenticate
from api.config import ApiSettings
from api.idempotency import Idempotency
from api.pages.session import session_token
from api.problems import ApiProblem
from api.ratelimit import RateLimiter
from api.recent_tokens import RecentTokens
from application.errors import ApplicationError
from application.logs import current_context
from application.service import CampaignService
from domain.decision import DecisionContext
from domain.values import Actor, Role

#: Anonymous self-registration acts as this.
PUBLIC_ACTOR = Actor(user="public", role=Role.PUBLIC)

_bearer = HTTPBearer(auto_error=False, description="a user's token, or the bootstrap token")


# The dependencies that only look something up are ``async``: FastAPI runs a sync one on a
# worker thread, a hop that costs more than the lookup.
async def _service(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.service
    return service


async def _api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


async def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


ServiceDep = Annotated[CampaignService, Depends(_service)]
ApiSettingsDep = Annotated[ApiSettings, Depends(_api_settings)]
Now = Annotated[datetime, Depends(_now)]


def _token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The request's token: the bearer header's, else the pages' signed session cookie's
    (CSRF-checked on writes)."""
    return credentials.credentials if credentials is not None else session_token(request)


async def _holder(request: Request, token: str, now: datetime) -> Actor | None:
    """Who holds ``token``; None when it is unknown, replaced or expired, or its user disabled.
    A token seen a moment ago is answered here; only a store read goes to a worker thread."""
    settings: ApiSettings = request.app.state.api_settings
    service: CampaignService = request.app.state.service
    bootstrap = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    recent: RecentTokens = request.app.state.recent_tokens
    actor = recent.known(token, now)
    if actor is None:
        actor = await anyio.to_thread.run_sync(
            recent.actor, token, lambda given: authenticate(service, given, bootstrap, now), now
        )
    return actor


async def _actor(
    request: Request,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    challenge = {"WWW-Authenticate": "Bearer"}
    token = _token(request, credentials)
    if token is None:
        raise ApiProblem(401, "unauthenticated", "a bearer token is required", challenge)
    actor = await _holder(request, token, now)
    if actor is None:
        detail = "the bearer token is unknown, replaced or expired, or its user is disabled"
        raise ApiProblem(401, "unauthenticated", detail, challenge)
    context = current_context()
    if context is not None:  # the request's log lines name who acted (a user id, nothing personal)
        context["actor"] = actor.user
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]


async def optional_actor(request: Request) -> Actor | None:
    """The actor of the request's token (the bearer header or the pages' session), or None: no
    token, an unknown one, or a store that cannot say. For answers that say more to some."""
    token = _token(request, await _bearer(request))
    if token is None:
        return None
    try:
        return await _holder(request, token, request.app.state.clock())
    except ApplicationError:  # the store is down: the caller is told what anyone is told
        return None


async def _recent_tokens(request: Request) -> RecentTokens:
    recent: RecentTokens = request.app.state.recent_tokens
    return recent


RecentTokensDep = Annotated[RecentTokens, Depends(_recent_tokens)]


def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description=(
                "the version (the contestant's, the team's or the campaign's) the change is "
                "based on; 412 when it has moved on"
            ),
            pattern=r'^\s*(W/)?"?\d{1,9}"?\s*$',
        ),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    return int(if_match.strip().removeprefix("W/").strip('"'))


ExpectedVersion = Annotated[int | None, Depends(_if_match)]


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retry with the same key gets the first answer and records nothing twice",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
    ),
]


def _idempotency(
    request: Request,
    service: ServiceDep,
    actor: CurrentActor,
    key: IdempotencyKey = None,
) -> Idempotency:
    return Idempotency(service, request.app.state.answer_locks, actor.user, key, request)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]


def _public_idempotency(
    request: Request,
    service: ServiceDep,
    key: IdempotencyKey = None,
) -> Idempotency:
    client = request.client.host if request.client else "unknown"
    return Idempotency(service, request.app.state.answer_locks, f"public@{client}", key, request)


PublicIdempotencyDep = Annotated[Idempotency, Depends(_public_idempotency)]


def command_id(user: str, key: str | None) -> str:
    """The same for every retry of one (user, Idempotency-Key); fresh for a request without a key."""
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{user}\x1f{key}".encode()).hexdigest()[:32]


def _decision(
    actor: CurrentActor, now: Now, expected: ExpectedVersion, key: IdempotencyKey = None
) -> DecisionContext:
    return DecisionContext(
        actor=actor, at=now, expected_version=expected, command_id=command_id(actor.user, key)
    )


#: Who decides, when, on which version, under which command id; the route adds reason and evidence.
DecisionDep = Annotated[DecisionContext, Depends(_decision)]


def _unversioned_decision(actor: CurrentActor, now: Now, key: IdempotencyKey = None) -> DecisionContext:
    return DecisionContext(actor=actor, at=now, command_id=command_id(actor.user, key))


#: The same for decisions on what no read gives a version of (users): ``If-Match`` is not read.
UnversionedDecisionDep = Annotated[DecisionContext, Depends(_unversioned_decision)]


def _public_decision(request: Request, now: Now, key: IdempotencyKey = None) -> DecisionContext:
    client = request.client.host if request.client else "unknown"
    return DecisionContext(actor=PUBLIC_ACTOR, at=now, command_id=command_id(f"public@{client}", key))


PublicDecisionDep = Annotated[DecisionContext, Depends(_public_decision)]


async def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.registration_limiter
    return limiter


RegistrationLimiter = Annotated[RateLimiter, Depends(_rate_limiter)]
