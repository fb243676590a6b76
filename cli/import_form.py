"""`zhanyou import`: a city's recommendation form (附件2) from the command line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from application.errors import ApplicationError
from application.imports import ImportReport, import_recommendations
from cli.startup import load_settings, open_service
from domain.errors import DomainError
from domain.users import user_id


def import_form(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv form")],
    campaign: Annotated[UUID, typer.Option(help="Campaign id")],
    user: Annotated[
        str,
        typer.Option(help="A stored user (organiser or the city's staff); the rows are recorded as theirs"),
    ],
    group: Annotated[str | None, typer.Option(help="Group, when the form's 参赛组别 is blank")] = None,
    unit: Annotated[str | None, typer.Option(help="Recommending unit, when the form's is blank")] = None,
) -> None:
    """Nominate every row of a recommendation form; prints what happened to each row.

    Exits 0 when every row was created or was imported before, 1 when nothing was imported
    (unknown campaign or user, unreadable form), 3 when some rows were refused.
    """
    settings = load_settings()
    console = Console()
    service = open_service(settings)
    try:
        stored = service.get_user(user_id(user.strip()))
        if stored is None:
            console.print(f"[red]{file.name}: nothing imported: no user is named {user.strip()!r}")
            raise typer.Exit(1)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            report = import_recommendations(
                service,
                campaign,
                file.read_bytes(),
                file.name,
                actor=stored.as_actor(),
                at=datetime.now(UTC),
                group=group,
                unit=unit,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (DomainError, ApplicationError) as refusal:
        console.print(f"[red]{file.name}: nothing imported: {refusal.detail}")
        raise typer.Exit(1) from None
    finally:
        service.close()
    print_report(report, console)
    if report.counts["refused"]:
        raise typer.Exit(3)


def print_report(report: ImportReport, console: Console) -> None:
    table = Table(title=f"{report.filename}: {report.group.value} ({report.group.title})")
    for column in ("row", "name", "outcome", "rule", "detail"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(str(row.line), row.name, row.outcome, row.rule or "", row.detail or "")
    console.print(table)
    console.print(", ".join(f"{count} {outcome}" for outcome, count in report.counts.items()))
