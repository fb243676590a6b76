"""Users and their tokens: created, listed, disabled, enabled and rotated by organisers."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from api.auth import new_token, token_hash
from api.deps import (
    CurrentActor,
    DecisionDep,
    IdempotencyDep,
    RecentTokensDep,
    ServiceDep,
    UnversionedDecisionDep,
)
from api.idempotency import rendered
from api.problems import responses
from api.readmodel import MinPosition, ViewsDep, read_after
from api.schemas import (
    AuditEntryOut,
    AuditOut,
    Me,
    TokenIssued,
    TokenRotation,
    UserChange,
    UserCreate,
    UserCreated,
    UserOut,
)
from domain.access import require_may_read_audit
from domain.timeline import to_utc
from domain.users import User, require_admin
from projections.audit import USER_DECISIONS, AuditFilter

router = APIRouter(prefix="/api/users", tags=["users"])

Username = Annotated[str, Path(min_length=1, max_length=64, description="the user's name")]
AUDIT_PAGE = 500


def _created_kept(user: User) -> UserCreated:
    """What is kept for a replay of a creation: everything but the token, which is shown once."""
    return UserCreated(
        username=user.username,
        role=user.role.value,
        city=user.city,
        token=None,
        token_expires_at=user.token_expires_at,
    )


def _issued_kept(user: User) -> TokenIssued:
    return TokenIssued(username=user.username, token=None, token_expires_at=user.token_expires_at)


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role.value,
        city=user.city,
        disabled=user.disabled,
        token_expires_at=user.token_expires_at,
        created_at=user.created_at,
        version=user.version,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses=responses(401, 403, 409, 422, 503),
)
def create_user(
    body: UserCreate, service: ServiceDep, context: UnversionedDecisionDep, idem: IdempotencyDep
) -> JSONResponse:
    """Admins create users; the answer carries the user's token, shown this once (never stored)."""

    def decide() -> UserCreated:
        token = new_token(body.username)
        user = service.create_user(
            body.username,
            body.role,
            body.city,
            token_hash(token),
            context,
            token_expires_at=to_utc(body.token_expires_at),
        )
        return UserCreated(
            username=user.username,
            role=user.role.value,
            city=user.city,
            token=token,
            token_expires_at=user.token_expires_at,
        )

    return idem.answer(status.HTTP_201_CREATED, body, decide, rendered(User, _created_kept))


@router.get("", response_model=list[UserOut], responses=responses(401, 403, 503))
def list_users(service: ServiceDep, actor: CurrentActor) -> list[UserOut]:
    """Every user (organisers only), disabled ones included, in the order they were created."""
    require_admin(actor, "list users")
    return [user_out(user) for user in service.list_users()]


@router.get("/me", response_model=Me, responses=responses(401, 503))
def me(actor: CurrentActor) -> Me:
    """Who the token stands for."""
    return Me(user=actor.user, role=actor.role.value, city=actor.city)


@router.get("/audit", response_model=AuditOut, responses=responses(401, 403, 422, 503))
def user_audit(
    request: Request,
    response: Response,
    views: ViewsDep,
    actor: CurrentActor,
    min_position: MinPosition = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> AuditOut:
    """Every user-management decision (created, disabled, enabled, token rotated): who, when, why."""
    require_may_read_audit(actor)
    read_after(request, response, ["audit"], min_position)
    where = AuditFilter(event_types=USER_DECISIONS)
    entries = views.audit.entries(where, limit=AUDIT_PAGE, after=after)
    next_after = entries[-1].notification_id if len(entries) == AUDIT_PAGE else None
    return AuditOut(entries=[AuditEntryOut(**vars(e)) for e in entries], next_after=next_after)


@router.post(
    "/{username}/disable", response_model=UserOut, responses=responses(401, 403, 404, 409, 412, 422, 503)
)
def disable_user(
    username: Username,
    body: UserChange,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
    recent: RecentTokensDep,
) -> JSONResponse:
    """The user's token stops at once here and within 3 s in every other process; the user stays
    on the record. With ``If-Match``, only on that version of the user."""

    def decide() -> UserOut:
        require_admin(context.actor, "disable user")
        changed = service.disable_user(username, replace(context, reason=body.reason))
        recent.forget_user(changed.username)
        return user_out(changed)

    return idem.answer(200, body, decide)


@router.post(
    "/{username}/enable", response_model=UserOut, responses=responses(401, 403, 404, 409, 412, 422, 503)
)
def enable_user(
    username: Username,
    body: UserChange,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A disabled user's token works again (unless it expired or was replaced). With
    ``If-Match``, only on that version of the user."""

    def decide() -> UserOut:
        require_admin(context.actor, "enable user")
        return user_out(service.enable_user(username, replace(context, reason=body.reason)))

    return idem.answer(200, body, decide)


@router.post(
    "/{username}/token", response_model=TokenIssued, responses=responses(401, 403, 404, 409, 412, 422, 503)
)
def rotate_token(
    username: Username,
    body: TokenRotation,
    service: ServiceDep,
    context: DecisionDep,
    idem: IdempotencyDep,
    recent: RecentTokensDep,
) -> JSONResponse:
    """A new token, shown once, replaces the user's token (which stops at once); optionally
    expiring. With ``If-Match``, only on that version of the user."""

    def decide() -> TokenIssued:
        require_admin(context.actor, "rotate token")
        token = new_token(username)
        expires = to_utc(body.token_expires_at)
        user = service.rotate_token(
            username, token_hash(token), replace(context, reason=body.reason), expires_at=expires
        )
        recent.forget_user(user.username)
        return TokenIssued(username=user.username, token=token, token_expires_at=user.token_expires_at)

    return idem.answer(200, body, decide, rendered(User, _issued_kept))
