"""What auditors check the store's history with: signed checkpoints and a background verification."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from api.deps import CurrentActor, ServiceDep
from api.problems import responses
from api.schemas import LocalInstant
from api.verification import VerificationJob, as_json
from application.errors import StoreUnavailable
from application.readjudication import readjudicate
from application.settings import Settings
from domain.access import require_may_read_audit
from domain.values import Role
from ledger.operations import public_key, stored_checkpoints
from ledger.signers import names_a_host, shown_signer

router = APIRouter(prefix="/api/audit", tags=["audit"])


class CheckpointOut(BaseModel):
    count: int = Field(description="events chained up to the checkpoint")
    notification_id: int
    head: str = Field(description="the chain hash at position `count`, hex")
    instant: str
    signer: str = Field(
        description="who signed: an instance name (scheduler-<8 hex digits>); a checkpoint signed "
        "before instance names holds role@host:pid, shown so to organisers only"
    )
    signer_masked: bool = Field(
        default=False,
        description="the signer is masked here (host:pid inside the signature): this copy does not "
        "verify as given; an organiser's does",
    )
    reason: str
    signature: str = Field(description="Ed25519 signature of the checkpoint's canonical JSON, base64")
    public_key: str


class CheckpointsOut(BaseModel):
    public_key: str | None = Field(description="the store's Ed25519 public key, base64 (raw 32 bytes)")
    checkpoints: list[CheckpointOut]


class BreakOut(BaseModel):
    kind: str
    position: int
    notification_id: int | None
    detail: str


class VerificationOut(BaseModel):
    state: str = Field(description="never run, running, done or failed")
    started_at: LocalInstant | None
    finished_at: LocalInstant | None
    done: int = Field(description="events verified so far")
    total: int | None = Field(description="events in the store")
    ok: bool | None
    count: int | None
    head: str | None
    checkpoints: int | None
    broken: BreakOut | None
    error: str | None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _masked(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint as shown to a role other than organiser: its signer without host and pid."""
    return {**checkpoint, "signer": shown_signer(checkpoint["signer"]), "signer_masked": True}


@router.get("/checkpoints", response_model=CheckpointsOut, responses=responses(401, 403, 503))
def checkpoints(request: Request, actor: CurrentActor) -> CheckpointsOut:
    """The store's public key and every signed checkpoint, oldest first (auditors and organisers).

    A signer that names a host and a pid (checkpoints signed before instance names) is shown
    to organisers only; others see its instance name, as ``/schedule`` names the scheduler.
    """
    require_may_read_audit(actor)
    settings = _settings(request)
    try:
        found: list[dict[str, Any]] = [c.as_dict() for c in stored_checkpoints(settings)]
    except (sqlite3.Error, psycopg.Error) as error:
        raise StoreUnavailable("the event store is unreachable", str(error)) from None
    if actor.role is not Role.ADMIN:
        found = [_masked(c) if names_a_host(c["signer"]) else c for c in found]
    return CheckpointsOut(
        public_key=public_key(settings), checkpoints=[CheckpointOut.model_validate(c) for c in found]
    )


@router.get("/verify", response_model=VerificationOut, responses=responses(401, 403, 422))
def verification(
    request: Request,
    actor: CurrentActor,
    fresh: Annotated[bool, Query(description="start a new verification unless one is running")] = False,
) -> VerificationOut:
    """The background verification of the whole chain, with progress.

    Started when none ran yet in this process, or when `fresh` is asked and none is running.
    """
    require_may_read_audit(actor)
    job: VerificationJob = request.app.state.verification
    if fresh or job.status().state == "never run":
        job.start()
    return VerificationOut.model_validate(as_json(job.status()))


class FindingOut(BaseModel):
    contestant_id: UUID
    version: int
    decision: str
    at: LocalInstant
    actor: str
    rule_version: int
    rule: str = Field(description="the refusing rule's code (phase_closed, not_permitted, ...)")
    refusal: str = Field(description="what the rule says, naming the window or the role")


class ReadjudicationOut(BaseModel):
    campaign_id: UUID
    contestants: int
    decisions: int
    findings: list[FindingOut]


@router.get(
    "/campaigns/{cid}/readjudication",
    response_model=ReadjudicationOut,
    responses=responses(401, 403, 404, 503),
)
def readjudication(
    cid: Annotated[UUID, Path(description="the campaign's id")], service: ServiceDep, actor: CurrentActor
) -> ReadjudicationOut:
    """Every recorded contestant decision judged again under the rules of its rule version."""
    require_may_read_audit(actor)
    result = readjudicate(service, cid)
    return ReadjudicationOut(
        campaign_id=result.campaign_id,
        contestants=result.contestants,
        decisions=result.decisions,
        findings=[FindingOut.model_validate(vars(f)) for f in result.findings],
    )
