"""People who use the service: a username, a role, a city for city staff, a token's hash."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.decision import Decision, DecisionContext
from domain.errors import DomainError, InvalidValue, NotPermitted
from domain.events import DecisionCreated, DecisionEvent
from domain.usernames import check_username, normalise, skeleton
from domain.values import Actor, Role, parse_city

_NAMESPACE = UUID("0b7e3f1c-5a0e-4f4b-8c43-7d2b9a61e0d4")
# Roles a person can hold; `public` and `scheduler` are never users.
USER_ROLES = (Role.ADMIN, Role.CITY_STAFF, Role.JUDGE, Role.AUDITOR, Role.LEADER)


class DuplicateUser(DomainError):
    rule = "duplicate_user"


def user_id(username: str) -> UUID:
    """One user per username; the id is how a token names its holder."""
    return uuid5(_NAMESPACE, f"user:{normalise(username)}")


def username_claim_id(username: str) -> UUID:
    """One user per look of a name: look-alike names share this id and conflict in the store."""
    return uuid5(_NAMESPACE, f"looks:{skeleton(username)}")


def require_admin(actor: Actor, action: str) -> None:
    """User management is for organisers; checked before any user is looked up, so the answer
    never tells another role which usernames exist."""
    if actor.role is not Role.ADMIN:
        raise NotPermitted(f"{action}: only organisers (admin) may do this, not {actor.role}")


def _describe(username: str, role: str, city: str | None) -> str:
    return f"用户 {username}（{role}{'，' + city if city else ''}）"


class UsernameClaim(Aggregate):
    """Saved with the user it names, so a look-alike created at the same time conflicts."""

    class UsernameClaimed(Aggregate.Created):
        username: str

        class_version = 1

    @staticmethod
    def create_id(username: str) -> UUID:
        return username_claim_id(username)

    @event(UsernameClaimed)
    def __init__(self, username: str, timestamp: datetime) -> None:
        self.username = username


class User(Aggregate):
    """Only a SHA-256 hash of the user's token is ever recorded; every change is a decision."""

    # --- the facts -------------------------------------------------------------

    class UserCreated(DecisionCreated):
        """:ivar role: a ``Role`` value. :ivar city: city staff's city, else None.

        :ivar token_hash: SHA-256 hex digest of the token; the token itself is never recorded.
        :ivar token_expires_at: absent from users created before tokens expired.
        """

        username: str
        role: str
        city: str | None
        token_hash: str
        token_expires_at: datetime | None = None

        class_version = 1

    class UserDisabled(DecisionEvent):
        """The user's token stops at once."""

        class_version = 1

    class UserEnabled(DecisionEvent):
        class_version = 1

    class TokenRotated(DecisionEvent):
        """:ivar token_hash: the new token's SHA-256 hex digest; the old token stops."""

        token_hash: str
        token_expires_at: datetime | None

        class_version = 1

    @staticmethod
    def create_id(username: str) -> UUID:
        return user_id(username)

    @classmethod
    def create(
        cls,
        context: DecisionContext,
        *,
        username: str,
        role: str,
        city: str | None,
        token_hash: str,
        token_expires_at: datetime | None = None,
    ) -> User:
        at = context.at
        require_admin(context.actor, "create user")
        problems: dict[str, str] = {}
        name = normalise(username)
        try:
            name = check_username(username)
        except InvalidValue as error:
            if type(error) is not InvalidValue:  # a reserved or look-alike name: its own rule
                raise
            problems.update(error.problems)
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
        _require_expiry_after(token_expires_at, at, problems)
        if problems:
            raise InvalidValue.many(problems)
        return cls(
            username=name,
            role=str(parsed_role),
            city=parsed_city,
            token_hash=token_hash,
            decision=_recorded(context, _describe(name, str(parsed_role), parsed_city)),
            timestamp=at,
            token_expires_at=token_expires_at,
        )

    @event(UserCreated)
    def __init__(
        self,
        username: str,
        role: str,
        city: str | None,
        token_hash: str,
        decision: Decision,
        timestamp: datetime,
        token_expires_at: datetime | None = None,  # absent from users created before expiries
    ) -> None:
        self.username = username
        self.role = Role(role)
        self.city = city
        self.token_hash = token_hash
        self.token_expires_at = token_expires_at
        self.disabled = False
        self.created_at = timestamp

    def as_actor(self) -> Actor:
        return Actor(user=self.username, role=self.role, city=self.city)

    def accepts(self, presented_hash: str, at: datetime) -> bool:
        """Whether a token with this hash stands for the user at ``at`` (enabled, not expired)."""
        if self.disabled or not hmac.compare_digest(self.token_hash, presented_hash):
            return False
        return self.token_expires_at is None or at < self.token_expires_at

    # --- lifecycle: each decided here, recorded with who and why ---------------

    def disable(self, context: DecisionContext) -> None:
        """The user's token stops at once; a disabled user stays in the record."""
        require_admin(context.actor, "disable user")
        if context.actor.user == self.username:
            raise NotPermitted("disable user: organisers cannot disable themselves")
        self._require_current(context, "disable user")
        if not self.disabled:
            self._disabled(decision=self._change(context, "停用"), timestamp=context.at)

    @event(UserDisabled)
    def _disabled(self, decision: Decision, timestamp: datetime) -> None:
        self.disabled = True

    def enable(self, context: DecisionContext) -> None:
        require_admin(context.actor, "enable user")
        self._require_current(context, "enable user")
        if self.disabled:
            self._enabled(decision=self._change(context, "启用"), timestamp=context.at)

    @event(UserEnabled)
    def _enabled(self, decision: Decision, timestamp: datetime) -> None:
        self.disabled = False

    def rotate_token(self, token_hash: str, context: DecisionContext, *, expires_at: datetime | None) -> None:
        """A new token replaces the old one, which stops at once."""
        require_admin(context.actor, "rotate token")
        self._require_current(context, "rotate token")
        problems: dict[str, str] = {}
        if len(token_hash) != 64:
            problems["token_hash"] = "a SHA-256 hex digest is required"  # noqa: S105 - a message
        _require_expiry_after(expires_at, context.at, problems)
        if problems:
            raise InvalidValue.many(problems)
        self._token_rotated(
            token_hash=token_hash,
            token_expires_at=expires_at,
            decision=self._change(context, "更换令牌"),
            timestamp=context.at,
        )

    @event(TokenRotated)
    def _token_rotated(
        self, token_hash: str, token_expires_at: datetime | None, decision: Decision, timestamp: datetime
    ) -> None:
        self.token_hash = token_hash
        self.token_expires_at = token_expires_at

    def _require_current(self, context: DecisionContext, action: str) -> None:
        """In order and on the version the organiser saw (``UserOut.version``, sent as If-Match)."""
        context.require_current(action, "user", version=self.version, last=self.modified_on)

    def _change(self, context: DecisionContext, what: str) -> Decision:
        return _recorded(context, f"{what}：{_describe(self.username, self.role.value, self.city)}")


def _recorded(context: DecisionContext, described: str) -> Decision:
    """The trail names the user made or changed; the given reason follows. User management has
    no rule version (0)."""
    said = (context.reason or "").strip()
    return replace(context, reason=described + (f"；{said}" if said else "")).recorded(0)


_EXPIRY = "token_expires_at"


def _require_expiry_after(expires_at: datetime | None, at: datetime, problems: dict[str, str]) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        problems[_EXPIRY] = "an instant with a time zone is required"
    elif expires_at <= at:
        problems[_EXPIRY] = "the expiry must be after now"
