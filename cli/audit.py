"""`zhanyou audit`: evidence bundles to carry away, checked offline, and re-adjudication."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from cli.startup import load_settings, open_service
from ledger.bundle import BundleUnreadable, check
from ledger.keys import SigningKeyMissing

audit = typer.Typer(help="Evidence bundles and re-adjudication, for auditors.", no_args_is_help=True)


@audit.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="The bundle file to write (JSON)")],
    contestant: Annotated[UUID | None, typer.Option(help="One contestant's events")] = None,
    campaign: Annotated[UUID | None, typer.Option(help="A whole campaign's events")] = None,
) -> None:
    """Write the events of a contestant or a campaign, their chain hashes, a checkpoint and the public key."""
    from ledger.evidence import NothingConcerned, export_bundle

    if (contestant is None) == (campaign is None):
        typer.echo("zhanyou: give either --contestant or --campaign", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    service = open_service(settings)
    try:
        count, checkpoint = export_bundle(service, settings, output, contestant=contestant, campaign=campaign)
    except (NothingConcerned, SigningKeyMissing) as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()
    typer.echo(
        f"{output}: {count} events, proven against the checkpoint of {checkpoint.checkpoint.instant} "
        f"(count {checkpoint.checkpoint.count})"
    )


@audit.command("check")
def check_bundle(bundle: Annotated[Path, typer.Argument(help="An evidence bundle file")]) -> None:
    """Verify an evidence bundle offline, with no database: exit 1 when it does not hold."""
    try:
        result = check(bundle.read_text(encoding="utf-8"))
    except (OSError, BundleUnreadable) as error:
        typer.echo(f"zhanyou: {bundle}: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(("OK " if result.ok else "BROKEN ") + result.detail)
    if not result.ok:
        raise typer.Exit(1)


@audit.command("replay")
def replay(
    campaign: Annotated[UUID, typer.Option(help="The campaign whose decisions are judged again")],
) -> None:
    """Judge every recorded contestant decision again under its rule version; exit 1 on findings."""
    from rich.console import Console

    from application.errors import NotFound
    from application.readjudication import readjudicate
    from domain.timeline import shanghai_text

    settings = load_settings()
    service = open_service(settings)
    try:
        result = readjudicate(service, campaign)
    except NotFound as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        service.close()
    console = Console(soft_wrap=True)
    console.print(
        f"campaign {campaign}: {result.decisions} decisions on {result.contestants} contestants judged again"
    )
    if not result.findings:
        console.print("[green]OK[/green] every recorded decision is one the rules of its rule version allow")
        return
    for finding in result.findings:
        console.print(
            f"contestant {finding.contestant_id} v{finding.version}: {finding.decision} at "
            f"{shanghai_text(finding.at)} by {finding.actor} under rule version {finding.rule_version} "
            f"is refused by [bold]{finding.rule}[/bold]: {finding.refusal}",
            highlight=False,
        )
    console.print(f"[red]{len(result.findings)} decision(s) the rules refuse[/red]")
    raise typer.Exit(1)
