"""People who use the service: a username, a role, a city for city staff, a token's hash."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.decision import Decision
from domain.errors import DomainError, InvalidValue, NotPermitted
from domain.values import Actor, Role, parse_city

_NAMESPACE = UUID("0b7e3f1c-5a0e-4f4b-8c43-7d2b9a61e0d4")
USERNAME = re.compile(r"^[\w.@-]{1,64}$")
# Roles a person can hold; `public` and `scheduler` are never users.
USER_ROLES = (Role.ADMIN, Role.CITY_STAFF, Role.JUDGE, Role.AUDITOR, Role.LEADER)


class DuplicateUser(DomainError):
    rule = "duplicate_user"


def user_id(username: str) -> UUID:
    """One user per username; the id is how a token names its holder."""
    return uuid5(_NAMESPACE, f"user:{username.strip()}")


class User(Aggregate):
    """Only a SHA-256 hash of the user's token is ever recorded."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return user_id(username)

    @classmethod
    def create(
        cls, *, username: str, role: str, city: str | None, token_hash: str, actor: Actor, at: datetime
    ) -> User:
        if actor.role is not Role.ADMIN:
            raise NotPermitted(f"create user: only organisers (admin) may do this, not {actor.role}")
        problems: dict[str, str] = {}
        name = username.strip()
        if not USERNAME.match(name):
            problems["username"] = "1 to 64 letters, digits or . _ @ -"
        try:
            parsed_role = Role(role)
        except ValueError:
            parsed_role = None
        if parsed_role not in USER_ROLES:
            problems["role"] = f"{role!r} is not one of {', '.join(r.value for r in USER_ROLES)}"
        parsed_city: str | None = None
        if parsed_role is Role.CITY_STAFF:
            if not city:
                problems["city"] = "city staff work for one city, which is missing"
            else:
                try:
                    parsed_city = parse_city(city)
                except InvalidValue as error:
                    problems.update(error.problems)
        elif city:
            problems["city"] = "only city staff are bound to a city"
        if len(token_hash) != 64:
            problems["token_hash"] = "a SHA-256 hex digest is required"  # noqa: S105 - a message
        if problems:
            raise InvalidValue.many(problems)
        return cls(
            username=name,
            role=str(parsed_role),
            city=parsed_city,
            token_hash=token_hash,
            decision=Decision.of(actor, 0),
            timestamp=at,
        )

    @event("UserCreated")
    def __init__(
        self,
        username: str,
        role: str,
        city: str | None,
        token_hash: str,
        decision: Decision,
        timestamp: datetime,
    ) -> None:
        self.username = username
        self.role = Role(role)
        self.city = city
        self.token_hash = token_hash

    def as_actor(self) -> Actor:
        return Actor(user=self.username, role=self.role, city=self.city)
