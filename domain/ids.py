"""Deterministic aggregate ids: the event store's uniqueness is what enforces our invariants."""

from __future__ import annotations

from uuid import UUID, uuid5

# A fixed namespace of this service; changing it would orphan every stored aggregate.
_NAMESPACE = UUID("6f0f6a52-7f5e-4d1b-9a43-2d1f0c5e8b71")


def campaign_id(name: str) -> UUID:
    return uuid5(_NAMESPACE, f"campaign:{name.strip()}")


def contestant_id(campaign: UUID, person_key: str) -> UUID:
    """One contestant per person per campaign; ``person_key`` is the ID number's pseudonym."""
    return uuid5(campaign, f"person:{person_key}")


def account_claim_id(campaign: UUID, account_key: str) -> UUID:
    """One livestream account per campaign."""
    return uuid5(campaign, f"account:{account_key}")


def allotment_id(campaign: UUID, scope: str) -> UUID:
    return uuid5(campaign, f"places:{scope}")


def team_id(campaign: UUID, city: str) -> UUID:
    return uuid5(campaign, f"team:{city}")
