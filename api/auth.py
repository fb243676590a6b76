"""Bearer tokens: ``zy_<user id hex>_<secret>``; only the token's SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from uuid import UUID

from application.service import CampaignService
from domain.users import user_id
from domain.values import Actor, Role

BOOTSTRAP_USER = "bootstrap-admin"
_PREFIX = "zy_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(username: str) -> str:
    """A fresh token naming its holder, so a lookup needs no index of hashes."""
    return f"{_PREFIX}{user_id(username).hex}_{secrets.token_urlsafe(32)}"


def _holder(token: str) -> UUID | None:
    if not token.startswith(_PREFIX):
        return None
    head, _, secret = token[len(_PREFIX) :].partition("_")
    if not secret:
        return None
    try:
        return UUID(hex=head)
    except ValueError:
        return None


def authenticate(service: CampaignService, token: str, bootstrap: str | None, at: datetime) -> Actor | None:
    """The actor a token stands for at ``at``, or None: unknown, replaced, expired, or its user disabled.

    The user is read from the event store on every request, so a disable or a rotation
    stops the old token at once, in every process.
    """
    if bootstrap is not None and hmac.compare_digest(token.encode(), bootstrap.encode()):
        return Actor(user=BOOTSTRAP_USER, role=Role.ADMIN)
    holder = _holder(token)
    if holder is None:
        return None
    user = service.get_user(holder)
    if user is None or not user.accepts(token_hash(token), at):
        return None
    return user.as_actor()
