"""A contestant that a role may not read is, to that role, a contestant that does not exist.

Answering 403 for an existing id and 404 for an unknown one would tell a leader, or the
staff of another city, who is registered (ids of a person can be computed); so every
answer about a contestant they may not read is the very 404 an unknown id gets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from application.errors import ContestantNotFound
from application.service import CampaignService
from domain.access import may_read
from domain.contestant import Contestant
from domain.errors import DomainError
from domain.values import Actor


def readable(service: CampaignService, actor: Actor, contestant_id: UUID) -> Contestant:
    """The contestant's current state, or ContestantNotFound when ``actor`` may not read it."""
    contestant = service.get_contestant(contestant_id)
    if not may_read(actor, contestant.city):
        raise ContestantNotFound(contestant_id)
    return contestant


@contextmanager
def concealed(service: CampaignService, actor: Actor | None, contestant_id: UUID) -> Iterator[None]:
    """A refused decision on a contestant the actor may not read answers as for an unknown id."""
    try:
        yield
    except DomainError:
        if actor is not None:
            readable(service, actor, contestant_id)
        raise
