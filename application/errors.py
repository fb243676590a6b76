"""The application's own exceptions; library exceptions never reach a caller."""

from __future__ import annotations

from uuid import UUID


class ApplicationError(Exception):
    rule = "application_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ApplicationError):
    rule = "not_found"


class NothingStored(NotFound):
    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(f"nothing is stored under {aggregate_id}")


class CampaignNotFound(NotFound):
    def __init__(self, campaign_id: UUID) -> None:
        super().__init__(f"no campaign {campaign_id}")
        self.campaign_id = campaign_id


class ContestantNotFound(NotFound):
    def __init__(self, contestant_id: UUID) -> None:
        super().__init__(f"no contestant {contestant_id}")
        self.contestant_id = contestant_id


class CampaignExists(ApplicationError):
    rule = "campaign_exists"

    def __init__(self, name: str, campaign_id: UUID) -> None:
        super().__init__(f"a campaign named {name!r} exists already ({campaign_id})")
        self.campaign_id = campaign_id


class Contended(ApplicationError):
    """Concurrent writers kept winning; the command was not recorded and may be retried."""

    rule = "contended"


class StoreUnavailable(ApplicationError):
    """A store did not answer, or answered what cannot be read.

    :ivar detail: which store, in words any caller may read (no address, schema, file or
        driver text).
    :ivar cause: the driver's own words, for the log and the operator's terminal only.
    :ivar may_be_recorded: True when the command is known to have been recorded, or may have
        been, whatever its own writes did (another request kept its answer); None leaves it
        to what the request's writes did (``store_policy.RequestWrites``).
    """

    rule = "store_unavailable"

    def __init__(self, detail: str, cause: str | None = None, *, may_be_recorded: bool | None = None) -> None:
        super().__init__(detail)
        self.cause = " ".join(cause.split()) if cause else None
        self.may_be_recorded = may_be_recorded

    def __str__(self) -> str:
        return f"{self.detail}: {self.cause}" if self.cause else self.detail
