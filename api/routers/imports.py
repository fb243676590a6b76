"""Recommendation forms (附件2) uploaded as the bureaus send them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Form, Path, UploadFile

from api.deps import CurrentActor, Now, ServiceDep
from api.problems import responses
from api.schemas import ImportedRow, ImportedSheet, ImportOut, Line
from application.imports import import_recommendations

router = APIRouter(prefix="/api/campaigns", tags=["imports"])


@router.post("/{cid}/imports", response_model=ImportOut, responses=responses(401, 403, 404, 413, 422, 503))
def import_form(
    cid: Annotated[UUID, Path(description="the campaign's id")],
    file: Annotated[UploadFile, File(description="the form, .xlsx or .csv")],
    service: ServiceDep,
    actor: CurrentActor,
    now: Now,
    group: Annotated[Line | None, Form(description="the group, when the form's 参赛组别 is blank")] = None,
    unit: Annotated[Line | None, Form(description="the recommending unit, when the form's is blank")] = None,
) -> ImportOut:
    """Nominate every row; each row is reported created, unchanged or refused with its rule.

    Importing the same file again creates nothing new. A file that is not a readable form
    is refused whole (422) before anything is written.
    """
    report = import_recommendations(
        service, cid, file.file.read(), file.filename or "upload", actor=actor, at=now, group=group, unit=unit
    )
    return ImportOut(
        filename=report.filename,
        group=report.group.value,
        unit=report.unit,
        counts=report.counts,
        rows=[ImportedRow(**asdict(row)) for row in report.rows],
        sheets=[
            ImportedSheet(name=sheet.name, outcome=sheet.outcome, group=sheet.group, detail=sheet.detail)
            for sheet in report.sheets
        ],
    )
