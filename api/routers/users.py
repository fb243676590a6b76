"""Users and their tokens."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from api.auth import new_token, token_hash
from api.deps import CurrentActor, IdempotencyDep, Now, ServiceDep
from api.idempotency import rendered
from api.problems import responses
from api.schemas import Me, UserCreate, UserCreated
from domain.users import User

router = APIRouter(prefix="/api/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserCreated,
    responses=responses(401, 403, 409, 422, 503),
)
def create_user(
    body: UserCreate, service: ServiceDep, actor: CurrentActor, now: Now, idem: IdempotencyDep
) -> JSONResponse:
    """Admins create users; the answer carries the user's token, shown this once."""

    def decide() -> UserCreated:
        token = new_token(body.username)
        user = service.create_user(
            body.username, body.role, body.city, token_hash(token), actor=actor, at=now
        )
        return UserCreated(username=user.username, role=user.role.value, city=user.city, token=token)

    def kept(user: User) -> UserCreated:
        # The token is shown once, in the first answer; a replay never carries it.
        return UserCreated(username=user.username, role=user.role.value, city=user.city, token=None)

    return idem.answer(status.HTTP_201_CREATED, body, decide, rendered(User, kept))


@router.get("/me", response_model=Me, responses=responses(401, 503))
def me(actor: CurrentActor) -> Me:
    """Who the token stands for."""
    return Me(user=actor.user, role=actor.role.value, city=actor.city)
